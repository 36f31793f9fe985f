import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { AgentControls } from "@/components/agents/agent-controls";
import { AgentDetails } from "@/components/agents/agent-details";
import { AgentSettingsForm } from "@/components/agents/agent-settings-form";
import { AgentStatusBadge } from "@/components/agents/agent-status";
import { GuardrailsEditor } from "@/components/agents/guardrails-editor";
import { ZUuid } from "@/lib/contract/common";
import { PageHeader } from "@/components/ui/layout";
import { getAgent } from "@/server/agents/service";
import { pageCtx } from "@/server/dashboard/context";
import { ApiError } from "@/server/http/errors";
import { listChains } from "@/server/intents/chains";
import { listMembers } from "@/server/org/members";
import { listVaults } from "@/server/vaults/service";
import { deleteAgentAction, rotateAgentKeyAction, updateAgentAction } from "../actions";

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
  const [{ vaults }, members] = await Promise.all([listVaults(ctx), manages ? listMembers(ctx) : null]);
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
