import type { Hex } from "viem";
import type { AgentTransaction } from "../../generated/sqlite/client";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { releaseNonce } from "./nonces";
import { rpc, rpcTry, RpcUnavailableError } from "./rpc";

/**
 * What happened to a signed transaction on its way to the chain, and what that does to its row:
 * - sent (the node took it, or already had it) → `broadcast`, then the receipt decides;
 * - refused (the node answered with an error: nonce too low, insufficient funds…) or not sent (no
 *   connection was ever made) → `failed`, and a reserved nonce is given back, since the chain never
 *   saw the transaction and the next submit must not leave a gap;
 * - unknown (connection lost or timed out after the request went out) → the row stays `signed` with
 *   an error that starts with UNKNOWN_OUTCOME and its nonce stays held: the node may have the
 *   transaction, and handing its nonce to another would make two transactions race for it.
 *   `reconcileBroadcast` settles such a row from the chain later (on GET, and before the next
 *   submit from the same address).
 */
export const UNKNOWN_OUTCOME = "Broadcast outcome unknown";
const RECEIPT_POLL_MS = 200;

type Outcome = { kind: "sent" } | { kind: "refused" | "not_sent" | "unknown"; message: string };

export const txAudit = (t: { id: string; chain: string; toAddress: string; valueWei: string }, extra: Record<string, string | number | null> = {}) => ({
  resourceType: "transaction",
  resourceId: t.id,
  details: { chain: t.chain, to: t.toAddress, value_wei: t.valueWei, ...extra },
});

const alreadyKnown = (message: string) => /already known|known transaction|already imported|already exists/i.test(message);

async function sendRaw(rpcUrl: string, signedTx: string): Promise<Outcome> {
  try {
    const sent = await rpcTry<Hex>(rpcUrl, "eth_sendRawTransaction", [signedTx]);
    if (sent.ok || alreadyKnown(sent.error.message)) return { kind: "sent" };
    return { kind: "refused", message: sent.error.message };
  } catch (e) {
    if (!(e instanceof RpcUnavailableError)) throw e;
    return { kind: e.delivery, message: e.detail };
  }
}

/** Sets fields only while the row is still in `from` status: of two settlers, the second changes nothing. */
async function settle(ctx: Ctx, t: AgentTransaction, from: string, data: Partial<AgentTransaction>): Promise<AgentTransaction | null> {
  const { count } = await ctx.rt.db.agentTransaction.updateMany({ where: { id: t.id, status: from }, data });
  return count === 1 ? ctx.rt.db.agentTransaction.findUniqueOrThrow({ where: { id: t.id } }) : null;
}

/** Broadcasts a row just signed and records the outcome. */
export async function broadcastSigned(ctx: Ctx, t: AgentTransaction, rpcUrl: string, nonceReserved: boolean): Promise<AgentTransaction> {
  return applyOutcome(ctx, t, await sendRaw(rpcUrl, t.signedTx!), nonceReserved);
}

async function applyOutcome(ctx: Ctx, t: AgentTransaction, outcome: Outcome, nonceReserved: boolean): Promise<AgentTransaction> {
  if (outcome.kind === "sent") {
    const row = (await settle(ctx, t, "signed", { status: "broadcast", errorMessage: null })) ?? t;
    await ctx.rt.audit.record(ctx, { action: "tx.broadcast", ...txAudit(row, { hash: row.txHash }) });
    return row;
  }
  if (outcome.kind === "unknown") {
    const message = `${UNKNOWN_OUTCOME}: ${outcome.message}; the nonce stays held until the chain shows this transaction or its nonce used`;
    const row = (await settle(ctx, t, "signed", { errorMessage: message.slice(0, 2000) })) ?? t;
    await ctx.rt.audit.record(ctx, { action: "tx.broadcast_unknown", ...txAudit(row, { hash: row.txHash, nonce: row.nonce }) });
    return row;
  }
  const message = outcome.kind === "refused" ? `Broadcast refused: ${outcome.message}` : `Broadcast failed: ${outcome.message}; the transaction was not sent`;
  const row = await settle(ctx, t, "signed", { status: "failed", countsToLimit: false, errorMessage: message.slice(0, 2000) });
  if (!row) return t;
  if (nonceReserved && row.nonce !== null) await releaseNonce(ctx, row.chainId, row.fromAddress, row.nonce);
  await ctx.rt.audit.record(ctx, { action: "tx.failed", ...txAudit(row, { hash: row.txHash, reason: message.slice(0, 500) }) });
  return row;
}

/** A broadcast transaction's receipt, polled a few times: confirmed (status 1) or failed (reverted on chain). */
export async function refreshFromChain(ctx: Ctx, t: AgentTransaction, rpcUrl: string, polls: number): Promise<AgentTransaction> {
  if (t.status !== "broadcast" || !t.txHash) return t;
  for (let i = 0; i < polls; i++) {
    const r = await rpcTry<{ status?: Hex } | null>(rpcUrl, "eth_getTransactionReceipt", [t.txHash]);
    if (r.ok && r.result) {
      const ok = r.result.status === "0x1";
      const updated = await settle(ctx, t, "broadcast", ok ? { status: "confirmed" } : { status: "failed", errorMessage: "The transaction reverted on chain" });
      if (!updated) return ctx.rt.db.agentTransaction.findUniqueOrThrow({ where: { id: t.id } });
      await ctx.rt.audit.record(ctx, { action: ok ? "tx.confirmed" : "tx.failed", ...txAudit(updated, { hash: t.txHash }) });
      return updated;
    }
    if (i + 1 < polls) await new Promise((res) => setTimeout(res, RECEIPT_POLL_MS));
  }
  return t;
}

export const outcomeUnknown = (t: AgentTransaction) => t.status === "signed" && !!t.errorMessage?.startsWith(UNKNOWN_OUTCOME) && !!t.signedTx && t.nonce !== null;

/**
 * Settles a row whose broadcast outcome was unknown, from what the chain shows (reads first, so two
 * settlers agree): its receipt → mined; the address's mined count past its nonce without it → another
 * transaction took the nonce, this one can never be mined (failed, nonce not given back: it is
 * used); the node's pool has it → broadcast; otherwise the same signed bytes are sent again (same
 * hash, same nonce: at most one can ever be mined) and that outcome is recorded as at submit. A node
 * unreachable, or refusing one of these reads, leaves the row as it was.
 */
export async function reconcileBroadcast(ctx: Ctx, t: AgentTransaction, rpcUrl: string): Promise<AgentTransaction> {
  if (!outcomeUnknown(t)) return t;
  try {
    const mined = Number(BigInt(await rpc<Hex>(rpcUrl, "eth_getTransactionCount", [t.fromAddress, "latest"])));
    const receipt = await rpc<{ status?: Hex } | null>(rpcUrl, "eth_getTransactionReceipt", [t.txHash]);
    if (receipt) return refreshFromChain(ctx, await applyOutcome(ctx, t, { kind: "sent" }, false), rpcUrl, 1);
    if (mined > t.nonce!) {
      const row = await settle(ctx, t, "signed", { status: "failed", countsToLimit: false, errorMessage: `Nonce ${t.nonce} was used by another transaction from this address; this one was never mined` });
      if (row) await ctx.rt.audit.record(ctx, { action: "tx.failed", ...txAudit(row, { hash: row.txHash, reason: "nonce used by another transaction" }) });
      return row ?? t;
    }
    const pooled = await rpc<unknown>(rpcUrl, "eth_getTransactionByHash", [t.txHash]);
    if (pooled) return applyOutcome(ctx, t, { kind: "sent" }, false);
    return applyOutcome(ctx, t, await sendRaw(rpcUrl, t.signedTx!), true);
  } catch (e) {
    // The node unreachable, or refusing a read: nothing is known yet, the row stays as it was.
    if (e instanceof ApiError && e.status === 502) return t;
    throw e;
  }
}

/**
 * Before a new nonce is reserved for an address: its unknown-outcome transactions are settled first,
 * lowest nonce first, so one that never reached the node is sent again (or failed and its nonce given
 * back) instead of leaving a gap below the new one.
 */
export async function reconcileAddress(ctx: Ctx, chainId: number, fromAddress: string, rpcUrl: string): Promise<void> {
  const rows = await ctx.rt.db.agentTransaction.findMany({
    where: { orgId: ctx.principal.orgId, chainId, fromAddress, status: "signed", errorMessage: { startsWith: UNKNOWN_OUTCOME } },
    orderBy: { nonce: "asc" },
    take: 20,
  });
  for (const row of rows) await reconcileBroadcast(ctx, row, rpcUrl);
}
