import type { ReactNode } from "react";
import type { AgentResponse } from "@/lib/contract/agents";
import { CopyButton } from "@/components/ui/copy-button";
import { Card, formatDate } from "@/components/ui/layout";
import type { VaultOption } from "./agent-key-panel";
import { AUTH_METHOD_LABELS } from "./agent-status";

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="flex flex-col gap-1 sm:flex-row sm:gap-4">
      <dt className="w-44 shrink-0 text-sm text-zinc-500">{label}</dt>
      <dd className="min-w-0 text-sm break-words text-zinc-200">{children}</dd>
    </div>
  );
}

/** Everything about the agent that is not a credential (the SSH key shown is the public half). */
export function AgentDetails({ agent, vaults }: { agent: AgentResponse; vaults: VaultOption[] }) {
  const vaultName = (id: string) => vaults.find((v) => v.id === id)?.name ?? id;
  return (
    <Card title="Details">
      <dl className="flex flex-col gap-3">
        <Row label="Agent ID">
          <span className="flex flex-wrap items-center gap-2">
            <code className="font-mono text-xs">{agent.id}</code>
            <CopyButton value={agent.id} label="Copy ID" variant="ghost" />
          </span>
        </Row>
        <Row label="Auth method">{AUTH_METHOD_LABELS[agent.auth_method]}</Row>
        {agent.client_cert_fingerprint && (
          <Row label="Certificate SHA-256">
            <code className="font-mono text-xs">{agent.client_cert_fingerprint}</code>
          </Row>
        )}
        {agent.oidc_issuer && <Row label="OIDC issuer">{agent.oidc_issuer}</Row>}
        {agent.oidc_client_id && <Row label="OIDC client id">{agent.oidc_client_id}</Row>}
        <Row label="Registered">{formatDate(agent.created_at)}</Row>
        <Row label="Last activity">{agent.last_active_at ? formatDate(agent.last_active_at) : "Never"}</Row>
        <Row label="Expires">{agent.expires_at ? formatDate(agent.expires_at) : "Never"}</Row>
        <Row label="Scopes">{agent.scopes.length ? agent.scopes.join(", ") : "Derived from its policies"}</Row>
        <Row label="Vault binding">{agent.vault_ids.length ? agent.vault_ids.map(vaultName).join(", ") : "Unbound (policies decide)"}</Row>
        <Row label="SSH public key">
          <code className="block font-mono text-xs break-all text-zinc-300">{agent.ssh_public_key}</code>
        </Row>
      </dl>
    </Card>
  );
}
