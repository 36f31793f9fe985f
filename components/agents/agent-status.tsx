import type { AgentResponse } from "@/lib/contract/agents";
import { Badge } from "@/components/ui/layout";

export const AUTH_METHOD_LABELS: Record<AgentResponse["auth_method"], string> = {
  api_key: "API key",
  mtls: "mTLS certificate",
  oidc_client_credentials: "OIDC client credentials",
};

/** Deactivated wins over expired: reactivating an expired agent would still leave it unable to sign in. */
export function agentStatus(agent: Pick<AgentResponse, "is_active" | "expires_at">, now = Date.now()): "active" | "inactive" | "expired" {
  if (!agent.is_active) return "inactive";
  if (agent.expires_at && Date.parse(agent.expires_at) <= now) return "expired";
  return "active";
}

export function AgentStatusBadge({ agent }: { agent: Pick<AgentResponse, "is_active" | "expires_at"> }) {
  const status = agentStatus(agent);
  if (status === "inactive") return <Badge tone="red">Inactive</Badge>;
  if (status === "expired") return <Badge tone="amber">Expired</Badge>;
  return <Badge tone="green">Active</Badge>;
}
