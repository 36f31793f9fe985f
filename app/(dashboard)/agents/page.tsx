import type { Metadata } from "next";
import { AgentTable } from "@/components/agents/agent-table";
import { RegisterAgentForm } from "@/components/agents/register-agent-form";
import { Card, PageHeader } from "@/components/ui/layout";
import { listAgents } from "@/server/agents/service";
import { pageCtx } from "@/server/dashboard/context";
import { listVaults } from "@/server/vaults/service";
import { registerAgentAction } from "./actions";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Agents" };

export default async function AgentsPage() {
  const ctx = await pageCtx();
  const [{ agents }, { vaults }] = await Promise.all([listAgents(ctx), listVaults(ctx)]);
  return (
    <>
      <PageHeader title="Agents" description="Programs that reach secrets through the API, the MCP server or the SDK, each with its own key and guardrails." />
      <Card title="Your agents">
        <AgentTable agents={agents} />
      </Card>
      <RegisterAgentForm register={registerAgentAction} vaults={vaults.map((v) => ({ id: v.id, name: v.name }))} publicUrl={ctx.rt.config.publicUrl} />
    </>
  );
}
