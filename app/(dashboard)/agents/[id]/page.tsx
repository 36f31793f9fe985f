import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { AgentControls } from "@/components/agents/agent-controls";
import { AgentConnect } from "@/components/agents/agent-connect";
import { AgentDetails } from "@/components/agents/agent-details";
import { AgentReachCard } from "@/components/agents/agent-reach";
import { TestAccessForm } from "@/components/agents/test-access-form";
import { AuditEvents } from "@/components/audit/audit-events";
import { AgentSettingsForm } from "@/components/agents/agent-settings-form";
import { AgentStatusBadge } from "@/components/agents/agent-status";
import { GuardrailsEditor } from "@/components/agents/guardrails-editor";
import { ZUuid } from "@/lib/contract/common";
import { Card, PageHeader } from "@/components/ui/layout";
import { agentReach } from "@/server/agents/reach";
import { queryAuditEvents } from "@/server/audit/service";
import { auditResourceNames } from "@/server/audit/names";
import { principalNames } from "@/server/org/principal-names";
import { getAgent } from "@/server/agents/service";
import { pageCtx } from "@/server/dashboard/context";
import { ApiError } from "@/server/http/errors";
import { listChains } from "@/server/intents/chains";
import { listMembers } from "@/server/org/members";
import { listVaults } from "@/server/vaults/service";
import { deleteAgentAction, rotateAgentKeyAction, testAgentAccessAction, updateAgentAction } from "../actions";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Agent" };

export default async function AgentPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!ZUuid.safeParse(id).success) notFound();
  const ctx = await pageCtx();
  const agent = await getAgent(ctx, id).catch((e: unknown) => {
    if (e instanceof ApiError && e.status === 404) notFound();
    throw e;
  });
  const manages = ctx.principal.role === "owner" || ctx.principal.role === "admin";
  const [{ vaults }, members, reach, activity] = await Promise.all([
    listVaults(ctx),
    manages ? listMembers(ctx) : null,
    manages ? agentReach(ctx, id) : null,
    queryAuditEvents(ctx, { actor_id: `agent:${id}`, limit: 50, offset: 0 }),
  ]);
  const [activityNames, activityResources] = await Promise.all([principalNames(ctx, [`agent:${id}`]), auditResourceNames(ctx, activity.events)]);
  const vaultOptions = vaults.map((v) => ({ id: v.id, name: v.name }));
  const memberOptions = members?.members.map((m) => ({ id: m.id, label: m.display_name ? `${m.display_name} (${m.email})` : m.email }));
  const chains = listChains(ctx).chains.map(({ name, display_name, is_testnet, is_enabled }) => ({ name, display_name, is_testnet, is_enabled }));
  return (
    <>
      <div>
        <Link href="/agents" className="text-sm text-zinc-400 hover:text-zinc-100">
          ← Agents
        </Link>
      </div>
      <PageHeader title={agent.name} description={agent.description || undefined} actions={<AgentStatusBadge agent={agent} />} />
      <AgentControls
        agent={agent}
        update={updateAgentAction}
        rotate={rotateAgentKeyAction}
        remove={deleteAgentAction}
        vaults={vaultOptions}
        publicUrl={ctx.rt.config.publicUrl}
        members={memberOptions}
      />
      <AgentDetails agent={agent} vaults={vaultOptions} />
      {reach && <AgentReachCard reach={reach} />}
      {manages && (
        <Card title="Test access" description="Would this agent be allowed to read or write a path? The server's own decision, with the refusal the agent would get.">
          <TestAccessForm agentId={agent.id} vaults={vaultOptions} test={testAgentAccessAction} />
        </Card>
      )}
      <Card title="Connect an MCP client">
        <AgentConnect agentId={agent.id} vaults={vaultOptions} boundVaultIds={agent.vault_ids} publicUrl={ctx.rt.config.publicUrl} />
      </Card>
      <Card title="Recent activity" description={manages ? "Its last 50 audit events, newest first." : "Its last 50 audit events you may see, newest first (owners and admins see all)."}>
        <AuditEvents events={activity.events} names={{ ...Object.fromEntries(activityNames), ...Object.fromEntries(activityResources) }} filtered={false} label="Agent activity" />
      </Card>
      <GuardrailsEditor agent={agent} update={updateAgentAction} vaults={vaultOptions} chains={chains} />
      <p className="text-sm">
        <Link href={`/agents/${agent.id}/transactions`} className="text-amber-300 hover:underline">
          Transactions and HSM signing keys →
        </Link>
      </p>
      <AgentSettingsForm agent={agent} update={updateAgentAction} />
    </>
  );
}
