import { AddIpRuleForm, IpRulesTable } from "@/components/security/ip-rules";
import { Alert, Card, PageHeader } from "@/components/ui/layout";
import { pageCtx } from "@/server/dashboard/context";
import { listIpRules } from "@/server/security/ip-rules";
import { createIpRuleAction, deleteIpRuleAction } from "./actions";

export const dynamic = "force-dynamic";

export default async function SecurityPage() {
  const ctx = await pageCtx();
  const manages = ctx.principal.role === "owner" || ctx.principal.role === "admin";
  const header = (
    <PageHeader
      title="Security"
      description="IP rules for your whole organisation: every request, from people and agents alike, through the API and this dashboard."
    />
  );
  if (!manages) {
    return (
      <>
        {header}
        <Alert tone="blue">Only organisation owners and admins can see and change IP rules.</Alert>
      </>
    );
  }
  const { rules } = await listIpRules(ctx);
  return (
    <>
      {header}
      <Card title="How rules apply">
        <ul className="list-disc space-y-1 pl-5 text-sm text-zinc-400">
          <li>With no rules, every address is admitted.</li>
          <li>Once there is an allow rule, only addresses inside an allow rule are admitted.</li>
          <li>A deny rule blocks its addresses, even inside an allow rule.</li>
          <li>
            Your current address: <span className="font-mono text-zinc-200">{ctx.ip || "unknown"}</span>
          </li>
        </ul>
      </Card>
      <Card title="IP rules" description={`${rules.length} ${rules.length === 1 ? "rule" : "rules"}`}>
        <IpRulesTable rules={rules} remove={deleteIpRuleAction} />
      </Card>
      <Card title="Add a rule">
        <AddIpRuleForm create={createIpRuleAction} />
      </Card>
    </>
  );
}
