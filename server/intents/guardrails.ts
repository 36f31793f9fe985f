import { formatEther, getAddress, parseEther } from "viem";
import type { Agent } from "../../generated/sqlite/client";
import type { z } from "@hono/zod-openapi";
import type { ZGuardrailDecision } from "../../lib/contract/transactions";
import type { Chain } from "./chains";

/**
 * The agent's guardrails, checked before anything is signed, in this order: allowed chains,
 * destination allowlist, per-transaction maximum. (The rolling 24 h limit needs the other
 * transactions and is checked while the value is reserved: see reserveTransaction.) The human sets
 * them; the agent cannot (PATCH /v1/agents is human-only). A damaged stored value refuses.
 */
export type GuardrailDecision = z.infer<typeof ZGuardrailDecision>;
export type GuardrailRefusal = { rule: string; detail: string; decisions: GuardrailDecision[] };

const list = (json: string): string[] => {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.map(String) : ["<unreadable>"];
  } catch {
    return ["<unreadable>"];
  }
};

export function checkGuardrails(agent: Agent, chain: Chain, to: string, valueWei: bigint): { decisions: GuardrailDecision[]; refusal?: GuardrailRefusal } {
  const decisions: GuardrailDecision[] = [];
  const refuse = (rule: string, limit: string, detail: string) => {
    decisions.push({ rule, decision: "refused", limit });
    return { decisions, refusal: { rule, detail, decisions } };
  };

  const chains = list(agent.txAllowedChains);
  if (chains.length && !chains.includes(chain.name) && !chains.includes(String(chain.chain_id))) {
    return refuse("tx_allowed_chains", chains.join(","), `Guardrail tx_allowed_chains refuses chain ${chain.name}: allowed chains are ${chains.join(", ")}`);
  }
  decisions.push({ rule: "tx_allowed_chains", decision: "allowed", limit: chains.length ? chains.join(",") : null });

  const allow = list(agent.txToAllowlist);
  if (allow.length) {
    const target = getAddress(to);
    const ok = allow.some((a) => /^0x[0-9a-fA-F]{40}$/.test(a) && getAddress(a) === target);
    if (!ok) return refuse("tx_to_allowlist", `${allow.length} address(es)`, `Guardrail tx_to_allowlist refuses destination ${target}: it is not on the agent's allowlist (${allow.length} address(es))`);
  }
  decisions.push({ rule: "tx_to_allowlist", decision: "allowed", limit: allow.length ? `${allow.length} address(es)` : null });

  if (agent.txMaxValueEth !== null) {
    let max: bigint;
    try {
      max = parseEther(agent.txMaxValueEth);
    } catch {
      max = 0n;
    }
    if (valueWei > max) {
      return refuse("tx_max_value_eth", agent.txMaxValueEth, `Guardrail tx_max_value_eth refuses ${formatEther(valueWei)} ETH: the per-transaction maximum is ${agent.txMaxValueEth} ETH`);
    }
  }
  decisions.push({ rule: "tx_max_value_eth", decision: "allowed", limit: agent.txMaxValueEth });
  return { decisions };
}

export function dailyLimitWei(agent: Agent): bigint | null {
  if (agent.txDailyLimitEth === null) return null;
  try {
    return parseEther(agent.txDailyLimitEth);
  } catch {
    return 0n;
  }
}
