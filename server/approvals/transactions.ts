import { formatEther, parseEther } from "viem";
import { parseStoredApproval } from "../../lib/contract/policies";
import type { Ctx } from "../http/principal";
import { passApprovalGate } from "./gate";

/**
 * require_approval.transaction_above_eth (issue 14): an agent's transaction whose value is above the
 * lowest threshold among its live allow policies waits for a human's approval, like a gated read —
 * approved once (for this chain, destination and value) or for a window. Checked after the guardrails
 * and before anything is reserved or signed. A human submitting for the agent is not gated.
 */
export async function assertTransactionApproved(ctx: Ctx, input: { chain: string; to: string; valueWei: bigint }): Promise<void> {
  const p = ctx.principal;
  if (p.kind !== "agent") return;
  const now = new Date();
  const rows = await ctx.rt.db.policy.findMany({
    where: { orgId: p.orgId, principalType: "agent", principalId: p.agentId, effect: "allow", approval: { not: null }, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
    select: { vaultId: true, approval: true },
  });
  let lowest: { wei: bigint; vaultId: string } | null = null;
  for (const r of rows) {
    const eth = parseStoredApproval(r.approval)?.transaction_above_eth;
    if (!eth) continue;
    const wei = parseEther(eth);
    if (!lowest || wei < lowest.wei) lowest = { wei, vaultId: r.vaultId };
  }
  if (!lowest || input.valueWei <= lowest.wei) return;
  const vault = await ctx.rt.db.vault.findFirst({ where: { id: lowest.vaultId, orgId: p.orgId }, select: { id: true, orgId: true, name: true, createdBy: true, createdByType: true } });
  const value = formatEther(input.valueWei);
  await passApprovalGate(ctx, vault, "transaction", `${value} ETH to ${input.to} on ${input.chain}`, {
    chain: input.chain,
    to: input.to,
    value_eth: value,
    threshold_eth: formatEther(lowest.wei),
  });
}
