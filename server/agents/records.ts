import type { AgentResponse, AgentSelfResponse } from "../../lib/contract/agents";
import type { Agent } from "../../generated/sqlite/client";
import { derivedScopesForAgent } from "../access/scopes";
import type { Db } from "../db";

/** JSON-array columns (text, so one schema serves SQLite and PostgreSQL). */
export const parseList = (json: string): string[] => {
  const v = JSON.parse(json) as unknown;
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
};

export function toAgentResponse(a: Agent): AgentResponse {
  return {
    id: a.id,
    name: a.name,
    description: a.description,
    auth_method: a.authMethod as AgentResponse["auth_method"],
    scopes: parseList(a.scopes),
    expires_at: a.expiresAt?.toISOString() ?? null,
    is_active: a.isActive,
    deactivated_reason: a.isActive ? null : a.deactivatedReason,
    crypto_proxy_enabled: a.cryptoProxyEnabled,
    intents_api_enabled: a.cryptoProxyEnabled,
    tx_to_allowlist: parseList(a.txToAllowlist),
    tx_max_value_eth: a.txMaxValueEth,
    tx_daily_limit_eth: a.txDailyLimitEth,
    tx_allowed_chains: parseList(a.txAllowedChains),
    token_ttl_seconds: a.tokenTtlSeconds,
    vault_ids: parseList(a.vaultIds),
    client_cert_fingerprint: a.clientCertFingerprint,
    oidc_issuer: a.oidcIssuer,
    oidc_client_id: a.oidcClientId,
    ssh_public_key: a.sshPublicKey,
    ecdh_public_key: a.ecdhPublicKey,
    created_by: a.createdBy,
    created_at: a.createdAt.toISOString(),
    last_active_at: a.lastActiveAt?.toISOString() ?? null,
  };
}

export function toAgentSelfResponse(a: Agent, sshKeyLocation: AgentSelfResponse["ssh_key_location"], ecdhKeyLocation: AgentSelfResponse["ecdh_key_location"]): AgentSelfResponse {
  return { ...toAgentResponse(a), org_id: a.orgId, ssh_key_location: sshKeyLocation, ecdh_key_location: ecdhKeyLocation };
}

/** The scopes a new token or a direct key use carries: explicit ones win, else derived from its policies. */
export async function effectiveScopes(db: Db, agent: { id: string; scopes: string }): Promise<string[]> {
  const explicit = parseList(agent.scopes);
  return explicit.length ? explicit : derivedScopesForAgent(db, agent.id);
}
