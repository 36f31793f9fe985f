import { InboundShares } from "@/components/shares/inbound-shares";
import { OrgShares } from "@/components/shares/org-shares";
import { OutboundShares } from "@/components/shares/outbound-shares";
import { Card, PageHeader } from "@/components/ui/layout";
import { pageCtx } from "@/server/dashboard/context";
import { describeShares } from "@/server/shares/details";
import { listInboundShares, listOrgShares, listOutboundShares } from "@/server/shares/service";
import { answerShareAction, revealShareAction, revokeShareAction } from "./actions";

export const dynamic = "force-dynamic";

const tabClass = "rounded-lg border border-zinc-700 px-3 py-1.5 text-zinc-300 hover:border-zinc-500 hover:text-zinc-50";

export default async function SharesPage() {
  const ctx = await pageCtx();
  const oversees = ctx.principal.role === "owner" || ctx.principal.role === "admin";
  const [out, inb, all] = await Promise.all([listOutboundShares(ctx), listInboundShares(ctx), oversees ? listOrgShares(ctx) : Promise.resolve({ shares: [] })]);
  const { outbound, inbound, org } = await describeShares(ctx, out.shares, inb.shares, all.shares);
  return (
    <>
      <PageHeader
        title="Shares"
        description="Secrets you shared, and secrets shared with you. A share serves the version it was created for (or the latest, if created to follow it) while its sharer can still read the secret, until it expires, runs out of reads, is revoked or the secret is deleted."
      />
      <nav aria-label="Share lists" className="flex gap-2 text-sm">
        <a href="#outbound" className={tabClass}>
          Outbound ({outbound.length})
        </a>
        <a href="#inbound" className={tabClass}>
          Inbound ({inbound.length})
        </a>
        {oversees ? (
          <a href="#org" className={tabClass}>
            Org shares ({org.length})
          </a>
        ) : null}
      </nav>
      <div id="outbound" className="scroll-mt-6">
        <Card title="Outbound" description="Shares you created.">
          <OutboundShares shares={outbound} revoke={revokeShareAction} />
        </Card>
      </div>
      <div id="inbound" className="scroll-mt-6">
        <Card title="Inbound" description="Shares sent to you. Accept one to read it; each reveal uses one of its reads.">
          <InboundShares shares={inbound} answer={answerShareAction} reveal={revealShareAction} />
        </Card>
      </div>
      {oversees ? (
        <div id="org" className="scroll-mt-6">
          <Card title="Org shares" description="Every live share of your organisation, whoever created it. As an owner or admin you can revoke any of them.">
            <OrgShares shares={org} revoke={revokeShareAction} />
          </Card>
        </div>
      ) : null}
    </>
  );
}
