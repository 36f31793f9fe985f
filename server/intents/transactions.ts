import { createHash } from "node:crypto";
import { getAddress, type Hex, parseEther, type TransactionSerializable } from "viem";
import type { AgentTransaction } from "../../generated/sqlite/client";
import type { SubmitTransactionRequest, TransactionResponse } from "../../lib/contract/transactions";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { proxyAgent } from "./access";
import { broadcastSigned, outcomeUnknown, reconcileAddress, reconcileBroadcast, refreshFromChain, txAudit } from "./broadcast";
import { type Chain, chainRpcUrl, findChain } from "./chains";
import { spendApprovals } from "../approvals/gate";
import { assertTransactionApproved } from "../approvals/transactions";
import { checkGuardrails, dailyLimitWei } from "./guardrails";
import { releaseNonce, reserveNonce } from "./nonces";
import { GuardrailError, reserveTransaction } from "./reservations";
import { rpc, rpcTry } from "./rpc";
import { resolveSigner, signTransaction, type TxSigner } from "./signing";
import { simulateCall } from "./simulation";

const RECEIPT_POLLS = 10;

export function resolveChain(ctx: Pick<Ctx, "rt">, identifier: string): { chain: Chain; rpcUrl: string } {
  const chain = findChain(identifier, ctx.rt.config.chainRpcUrls);
  if (!chain) throw ApiError.badRequest("chain: unknown chain; GET /v1/chains lists supported chains", [{ field: "chain", message: "unknown chain" }]);
  return { chain, rpcUrl: chainRpcUrl(ctx, chain) };
}

export function valueWei(value: string): bigint {
  return parseEther(value);
}

export function toTransactionResponse(t: AgentTransaction, chain: Chain | undefined, includeSignedTx: boolean): TransactionResponse {
  return {
    id: t.id,
    agent_id: t.agentId,
    chain: t.chain,
    chain_id: t.chainId,
    from: t.fromAddress,
    to: t.toAddress,
    value_wei: t.valueWei,
    data: t.data,
    nonce: t.nonce,
    tx_type: t.txType as TransactionResponse["tx_type"],
    status: t.status as TransactionResponse["status"],
    tx_hash: t.txHash,
    ...(includeSignedTx && t.signedTx ? { signed_tx: t.signedTx } : {}),
    error_message: t.errorMessage,
    simulation_status: t.simulationStatus,
    guardrails: JSON.parse(t.guardrails) as TransactionResponse["guardrails"],
    explorer_url: t.txHash && chain?.explorer_url ? `${chain.explorer_url}/tx/${t.txHash}` : null,
    created_at: t.createdAt.toISOString(),
    signed_at: t.signedAt ? t.signedAt.toISOString() : null,
  };
}

/** Hash of what the caller asked for, so a reused Idempotency-Key with another body is told apart. */
function requestHash(agentId: string, body: SubmitTransactionRequest): string {
  const canonical = JSON.stringify(Object.keys(body).sort().map((k) => [k, body[k as keyof SubmitTransactionRequest]]));
  return createHash("sha256").update(agentId).update("\0").update(canonical).digest("hex");
}

async function fees(rpcUrl: string, body: SubmitTransactionRequest): Promise<Partial<TransactionSerializable> & { type: "legacy" | "eip1559" }> {
  if (body.gas_price !== undefined) return { type: "legacy", gasPrice: BigInt(body.gas_price) };
  if (body.max_fee_per_gas !== undefined) {
    const maxFeePerGas = BigInt(body.max_fee_per_gas);
    const tip = body.max_priority_fee_per_gas !== undefined ? BigInt(body.max_priority_fee_per_gas) : 1_000_000_000n;
    return { type: "eip1559", maxFeePerGas, maxPriorityFeePerGas: tip > maxFeePerGas ? maxFeePerGas : tip };
  }
  const block = await rpc<{ baseFeePerGas?: Hex } | null>(rpcUrl, "eth_getBlockByNumber", ["latest", false]);
  if (block?.baseFeePerGas) {
    const tipRes = await rpcTry<Hex>(rpcUrl, "eth_maxPriorityFeePerGas", []);
    const tip = body.max_priority_fee_per_gas !== undefined ? BigInt(body.max_priority_fee_per_gas) : tipRes.ok ? BigInt(tipRes.result) : 1_000_000_000n;
    return { type: "eip1559", maxFeePerGas: 2n * BigInt(block.baseFeePerGas) + tip, maxPriorityFeePerGas: tip };
  }
  return { type: "legacy", gasPrice: BigInt(await rpc<Hex>(rpcUrl, "eth_gasPrice", [])) };
}

/**
 * Submit: guardrails → reserve (idempotency, daily limit) → signer → simulate (default) → nonce →
 * sign → broadcast → record. Every step before broadcast that fails leaves the row failed (or
 * simulation_failed) and its value released; a broadcast's outcome is recorded as server/intents/broadcast
 * says (refused or never sent: failed, nonce given back; unknown: signed, nonce held until settled).
 */
export async function submitTransaction(
  ctx: Ctx,
  agentId: string,
  body: SubmitTransactionRequest,
  idempotencyKey: string | undefined,
): Promise<{ status: 200 | 201; tx: TransactionResponse }> {
  const agent = await proxyAgent(ctx, agentId, { requireEnabled: true });
  const { chain, rpcUrl } = resolveChain(ctx, body.chain);
  const value = valueWei(body.value);
  const to = getAddress(body.to);
  const data = (body.data ?? "0x").toLowerCase() as Hex;
  const audit = { id: "", chain: chain.name, toAddress: to, valueWei: value.toString() };

  const { decisions, refusal } = checkGuardrails(agent, chain, to, value);
  if (refusal) {
    await ctx.rt.audit.record(ctx, { action: "tx.refused", ...txAudit({ ...audit, id: agentId }, { rule: refusal.rule }), resourceType: "agent" });
    throw new GuardrailError(refusal.rule, refusal.detail);
  }
  await assertTransactionApproved(ctx, { chain: chain.name, to, valueWei: value });
  const limit = dailyLimitWei(agent);
  const txType = body.max_fee_per_gas !== undefined || body.gas_price === undefined ? "eip1559" : "legacy";
  let reservation;
  try {
    reservation = await reserveTransaction(ctx, {
      agentId,
      chain: chain.name,
      chainId: chain.chain_id,
      to,
      valueWei: value,
      data,
      txType,
      dailyLimitWei: limit,
      dailyLimitEth: agent.txDailyLimitEth,
      guardrails: JSON.stringify([...decisions, { rule: "tx_daily_limit_eth", decision: "allowed", limit: agent.txDailyLimitEth }]),
      idempotencyKey,
      requestHash: requestHash(agentId, body),
    });
  } catch (e) {
    if (e instanceof GuardrailError) {
      await ctx.rt.audit.record(ctx, { action: "tx.refused", ...txAudit({ ...audit, id: agentId }, { rule: e.rule }), resourceType: "agent" });
    }
    throw e;
  }
  if (reservation.kind === "replay") {
    const first = reservation.row;
    if (first.requestHash !== requestHash(agentId, body)) throw ApiError.conflict("This Idempotency-Key was used with a different request body within 24 h");
    if (first.status === "pending") throw ApiError.conflict("A request with this Idempotency-Key is still in flight; retry later");
    return { status: 200, tx: toTransactionResponse(first, chain, true) };
  }
  const row = reservation.row;
  audit.id = row.id;
  return { status: 201, tx: await signAndSend(ctx, agent, chain, rpcUrl, row, body, to, value, data) };
}

async function signAndSend(
  ctx: Ctx,
  agent: Parameters<typeof resolveSigner>[1],
  chain: Chain,
  rpcUrl: string,
  row: AgentTransaction,
  body: SubmitTransactionRequest,
  to: Hex,
  value: bigint,
  data: Hex,
): Promise<TransactionResponse> {
  const db = ctx.rt.db;
  let signer: TxSigner | undefined;
  let nonce: { value: number; reserved: boolean } | undefined;
  let current = row;
  const update = async (patch: Partial<AgentTransaction>) => {
    current = await db.agentTransaction.update({ where: { id: row.id }, data: patch });
    return current;
  };
  try {
    signer = await resolveSigner(ctx, agent, { chain, signingKeyPath: body.signing_key_path, vaultId: body.vault_id });
    await update({ fromAddress: signer.address });

    if (body.simulate_first !== false) {
      const sim = await simulateCall(rpcUrl, { from: signer.address, to, value, data, gas: body.gas_limit });
      await ctx.rt.audit.record(ctx, { action: "tx.simulate", ...txAudit(current, { status: sim.status, simulation_id: sim.simulation_id }) });
      if (sim.status !== "success") {
        const reason = sim.revert_reason ?? sim.error ?? "simulation failed";
        await update({ status: "simulation_failed", simulationStatus: sim.status, countsToLimit: false, errorMessage: reason.slice(0, 2000) });
        await ctx.rt.audit.record(ctx, { action: "tx.simulation_failed", ...txAudit(current, { reason: reason.slice(0, 500) }) });
        throw new ApiError(422, `Simulation ${sim.status === "reverted" ? "reverted" : "failed"}: ${reason}; nothing was signed (transaction ${row.id})`);
      }
      await update({ simulationStatus: "success" });
    }

    const feeFields = await fees(rpcUrl, body);
    let gas: bigint;
    if (body.gas_limit !== undefined) gas = BigInt(body.gas_limit);
    else {
      const est = await rpcTry<Hex>(rpcUrl, "eth_estimateGas", [{ from: signer.address, to, value: `0x${value.toString(16)}`, data }]);
      if (!est.ok) throw new ApiError(422, `The chain cannot estimate gas for this transaction: ${est.error.message}`);
      gas = (BigInt(est.result) * 12n) / 10n;
    }
    if (body.nonce !== undefined) nonce = { value: body.nonce, reserved: false };
    else {
      await reconcileAddress(ctx, chain.chain_id, signer.address, rpcUrl);
      const pending = Number(BigInt(await rpc<Hex>(rpcUrl, "eth_getTransactionCount", [signer.address, "pending"])));
      nonce = { value: await reserveNonce(ctx, chain.chain_id, signer.address, pending), reserved: true };
    }
    const tx = { ...feeFields, chainId: chain.chain_id, to, value, data, gas, nonce: nonce.value } as TransactionSerializable;
    const { signedTx, hash } = await signTransaction(signer, tx);
    // Signed: an approval taken for this transaction is spent, whatever the broadcast does.
    spendApprovals(ctx);
    await update({ status: "signed", nonce: nonce.value, txType: feeFields.type, signedTx, txHash: hash, signedAt: new Date() });
    await ctx.rt.audit.record(ctx, { action: "tx.sign", ...txAudit(current, { hash, nonce: nonce.value, signer: signer.kind }) });
  } catch (e) {
    if (current.status === "pending") {
      const message = e instanceof ApiError ? e.detail : "Signing failed";
      await update({ status: "failed", countsToLimit: false, errorMessage: message.slice(0, 2000) });
      if (nonce?.reserved) await releaseNonce(ctx, chain.chain_id, current.fromAddress, nonce.value);
    }
    throw e;
  } finally {
    signer?.dispose();
  }

  current = await broadcastSigned(ctx, current, rpcUrl, nonce.reserved);
  current = await refreshFromChain(ctx, current, rpcUrl, RECEIPT_POLLS);
  return toTransactionResponse(current, chain, true);
}

export async function listTransactions(ctx: Ctx, agentId: string, q: { limit?: number; offset?: number }) {
  await proxyAgent(ctx, agentId, { requireEnabled: false });
  const limit = q.limit ?? 50;
  const offset = q.offset ?? 0;
  const where = { agentId, orgId: ctx.principal.orgId };
  const [rows, count] = await Promise.all([
    ctx.rt.db.agentTransaction.findMany({ where, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: limit, skip: offset }),
    ctx.rt.db.agentTransaction.count({ where }),
  ]);
  const chainOf = (name: string) => findChain(name, ctx.rt.config.chainRpcUrls);
  return { transactions: rows.map((r) => toTransactionResponse(r, chainOf(r.chain), false)), count, limit, offset };
}

export async function getTransaction(ctx: Ctx, agentId: string, txId: string, includeSignedTx: boolean): Promise<TransactionResponse> {
  await proxyAgent(ctx, agentId, { requireEnabled: false });
  if (includeSignedTx && ctx.principal.kind !== "user") throw ApiError.forbidden("include_signed_tx is available to human users only");
  let row = await ctx.rt.db.agentTransaction.findFirst({ where: { id: txId, agentId, orgId: ctx.principal.orgId } });
  if (!row) throw ApiError.notFound("Transaction not found");
  const chain = findChain(row.chain, ctx.rt.config.chainRpcUrls);
  const url = chain && ctx.rt.config.chainRpcUrls[chain.name];
  if (url && outcomeUnknown(row)) row = await reconcileBroadcast(ctx, row, url);
  if (url && row.status === "broadcast") row = await refreshFromChain(ctx, row, url, 1).catch(() => row!);
  return toTransactionResponse(row, chain, includeSignedTx);
}
