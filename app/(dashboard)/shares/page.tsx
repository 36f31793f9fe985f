import { InboundShares } from "@/components/shares/inbound-shares";
import { OutboundShares } from "@/components/shares/outbound-shares";
import { Card, PageHeader } from "@/components/ui/layout";
import { pageCtx } from "@/server/dashboard/context";
import { listInboundShares, listOutboundShares } from "@/server/shares/service";
import { answerShareAction, revealShareAction, revokeShareAction } from "./actions";
import { describeShares } from "@/server/shares/details";

export const dynamic = "force-dynamic";

export default async function SharesPage() {
  const ctx = await pageCtx();
  const [out, inb] = await Promise.all([listOutboundShares(ctx), listInboundShares(ctx)]);
  const { outbound, inbound } = await describeShares(ctx, out.shares, inb.shares);
  return (
    <>
      <PageHeader title="Shares" description="Secrets you shared, and secrets shared with you. A share serves the secret's latest version until it expires, runs out of reads or is revoked." />
      <nav aria-label="Share lists" className="flex gap-2 text-sm">
        <a href="#outbound" className="rounded-lg border border-zinc-700 px-3 py-1.5 text-zinc-300 hover:border-zinc-500 hover:text-zinc-50">
          Outbound ({outbound.length})
        </a>
        <a href="#inbound" className="rounded-lg border border-zinc-700 px-3 py-1.5 text-zinc-300 hover:border-zinc-500 hover:text-zinc-50">
          Inbound ({inbound.length})
        </a>
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
    </>
  );
}
