import type { z } from "zod";
import type { AgentResponse, ZUpdateAgentRequest } from "@/lib/contract/agents";
import { lines } from "./form-values";

export type GuardrailsForm = {
  crypto: boolean;
  allowlist: string;
  maxValue: string;
  dailyLimit: string;
  chains: string[];
  ttl: string;
  vaultIds: string[];
};

type UpdateBody = z.input<typeof ZUpdateAgentRequest>;
type Guardrails = Pick<AgentResponse, "crypto_proxy_enabled" | "tx_to_allowlist" | "tx_max_value_eth" | "tx_daily_limit_eth" | "tx_allowed_chains" | "token_ttl_seconds" | "vault_ids">;

export function guardrailsForm(a: Guardrails): GuardrailsForm {
  return {
    crypto: a.crypto_proxy_enabled,
    allowlist: a.tx_to_allowlist.join("\n"),
    maxValue: a.tx_max_value_eth ?? "",
    dailyLimit: a.tx_daily_limit_eth ?? "",
    chains: [...a.tx_allowed_chains],
    ttl: a.token_ttl_seconds === null ? "" : String(a.token_ttl_seconds),
    vaultIds: [...a.vault_ids],
  };
}

const sameSet = (a: string[], b: string[]) => {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
};

/**
 * Only what changed: sending an unchanged vault binding or crypto flag would still revoke every token
 * the agent holds, so untouched fields stay out of the PATCH. Blank limits and TTL clear them (null).
 */
export function guardrailChanges(current: Guardrails, f: GuardrailsForm): UpdateBody {
  const body: UpdateBody = {};
  if (f.crypto !== current.crypto_proxy_enabled) body.crypto_proxy_enabled = f.crypto;
  const allowlist = lines(f.allowlist);
  if (!sameSet(allowlist.map((a) => a.toLowerCase()), current.tx_to_allowlist)) body.tx_to_allowlist = allowlist;
  const maxValue = f.maxValue.trim() || null;
  if (maxValue !== current.tx_max_value_eth) body.tx_max_value_eth = maxValue;
  const dailyLimit = f.dailyLimit.trim() || null;
  if (dailyLimit !== current.tx_daily_limit_eth) body.tx_daily_limit_eth = dailyLimit;
  if (!sameSet(f.chains, current.tx_allowed_chains)) body.tx_allowed_chains = f.chains as UpdateBody["tx_allowed_chains"];
  const ttl = f.ttl.trim() === "" ? null : Number(f.ttl);
  if (ttl !== current.token_ttl_seconds) body.token_ttl_seconds = ttl;
  if (!sameSet(f.vaultIds, current.vault_ids)) body.vault_ids = f.vaultIds;
  return body;
}

/** Changes that make every token the agent holds fail on its next use (the service bumps its token version). */
export const revokesTokens = (body: UpdateBody) => body.vault_ids !== undefined || body.crypto_proxy_enabled !== undefined;

/** Whether any transaction guardrail is set (shown even on a server that cannot sign for any chain). */
export function hasTransactionGuardrails(a: Guardrails): boolean {
  return a.crypto_proxy_enabled || a.tx_to_allowlist.length > 0 || a.tx_max_value_eth !== null || a.tx_daily_limit_eth !== null || a.tx_allowed_chains.length > 0;
}
