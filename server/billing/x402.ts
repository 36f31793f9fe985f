import { randomUUID } from "node:crypto";
import type { Hex } from "viem";
import { X402_VERSION, type X402PaymentRequirements, type X402SettlementResponse } from "../../lib/contract/x402";
import { appendAudit } from "../audit/chain";
import { auditRow } from "../audit/writer";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { log } from "../log";
import type { Runtime } from "../runtime";
import { dayOf, periodOf } from "./tiers";
import { type X402Chain, x402Chain } from "./x402-chain";
import { settlePayment } from "./x402-settle";
import { type VerifiedPayment, verifyPayment, X402Refusal } from "./x402-verify";

/**
 * x402 pay-per-request past the monthly quota. The meter refuses a request (402); when the org's
 * overage method is x402 and this server takes x402 payments, the request is paid for instead:
 *
 *   no X-PAYMENT        → 402 with the PaymentRequirements (problem+json carrying x402's fields)
 *   X-PAYMENT           → verify (x402-verify) → claim the authorization with a unique insert
 *                          (network, asset, payer, nonce), so two requests or instances presenting it
 *                          race on one row and one loses → settle on chain (x402-settle) → record
 *                          the payment, the usage, a ledger row and an audit event in one transaction
 *                          → the request runs once, answered with X-PAYMENT-RESPONSE.
 *
 * The claim comes before settlement on purpose: a claimed authorization is never presented twice,
 * even when settlement fails half-way (the payer signs a new one), so one payment can never buy two
 * requests. Neither the signature nor the header is ever logged or audited — only the payer's
 * address, the amount and the transaction hash, which the chain publishes anyway.
 */

export const MAX_TIMEOUT_SECONDS = 300;
const DESCRIPTION = "One Talon API request past the organisation's monthly quota";

/** What this server accepts for one request to `resource` (a URL without query string). */
export async function paymentRequirements(chain: X402Chain, resource: string): Promise<X402PaymentRequirements> {
  const domain = await chain.domain();
  return {
    scheme: "exact",
    network: chain.config.network,
    maxAmountRequired: chain.config.price.toString(),
    resource,
    description: DESCRIPTION,
    mimeType: "application/json",
    payTo: chain.payTo,
    maxTimeoutSeconds: MAX_TIMEOUT_SECONDS,
    asset: chain.asset,
    extra: { name: domain.name, version: domain.version },
  };
}

export type PaidRequest = { headers: Record<string, string> };
type RequestInfo = { method: string; path: string; paymentHeader: string | undefined };

const isUniqueViolation = (e: unknown) => typeof e === "object" && e !== null && (e as { code?: unknown }).code === "P2002";
const base64Json = (v: unknown) => Buffer.from(JSON.stringify(v), "utf8").toString("base64");

/**
 * Called with the meter's refusal. Rethrows it unless the request can be paid with x402; answers
 * 402 with the requirements when it can be but was not (or the payment failed); returns the
 * headers for the response when the payment settled and the request may run.
 */
export async function payPastQuota(ctx: Ctx, meterError: unknown, req: RequestInfo): Promise<PaidRequest> {
  if (!(meterError instanceof ApiError) || meterError.status !== 402) throw meterError;
  const chain = x402Chain(ctx.rt);
  if (!chain) throw meterError;
  const org = await ctx.rt.db.org.findUnique({ where: { id: ctx.principal.orgId }, select: { overageMethod: true } });
  if (org?.overageMethod !== "x402") throw meterError;
  const meterHeaders = meterError.opts.headers ?? {};
  let requirements: X402PaymentRequirements;
  try {
    requirements = await paymentRequirements(chain, `${ctx.rt.config.publicUrl}${req.path}`);
  } catch {
    throw ApiError.unavailable(`The x402 network's RPC node (${chain.config.network}) did not answer; retry shortly`, 5);
  }
  const required = (error: string, why: string) =>
    new ApiError(402, `Monthly request quota reached; this organisation pays past it per request with x402. ${why}`, {
      headers: meterHeaders,
      extensions: { x402Version: X402_VERSION, error, accepts: [requirements] },
    });
  if (!req.paymentHeader) throw required("X-PAYMENT header is required", "Retry with an X-PAYMENT header paying one of accepts[].");
  try {
    const settled = await payOnce(ctx, chain, requirements, req);
    const response: X402SettlementResponse = { success: true, transaction: settled.hash, network: chain.config.network, payer: settled.payer };
    return { headers: { ...meterHeaders, "X-PAYMENT-RESPONSE": base64Json(response), "Access-Control-Expose-Headers": "X-PAYMENT-RESPONSE" } };
  } catch (e) {
    if (e instanceof X402Refusal) throw required(e.reason, `Payment refused: ${e.message}.`);
    throw e;
  }
}

async function payOnce(ctx: Ctx, chain: X402Chain, requirements: X402PaymentRequirements, req: RequestInfo): Promise<{ hash: Hex; payer: string }> {
  const db = ctx.rt.db;
  let p: VerifiedPayment;
  try {
    p = await verifyPayment(db, chain, req.paymentHeader!, BigInt(Math.floor(Date.now() / 1000)));
  } catch (e) {
    if (e instanceof X402Refusal) throw e;
    log.warn("x402 verification could not reach the chain", { requestId: ctx.requestId, error: e instanceof Error ? e.name : "unknown" });
    throw new X402Refusal("unexpected_verify_error", "The payment could not be checked against the chain; retry shortly");
  }
  const id = randomUUID();
  const resource = `${req.method} ${req.path}`.slice(0, 2048);
  try {
    await db.x402Payment.create({
      data: { id, orgId: ctx.principal.orgId, network: chain.config.network, asset: chain.asset, payer: p.payer, payTo: chain.payTo, amount: p.value.toString(), nonce: p.nonce, status: "settling", resource },
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new X402Refusal("invalid_transaction_state", "This authorization was already presented; sign a new one");
    throw e;
  }
  let hash: Hex;
  try {
    hash = await settlePayment(ctx.rt, chain, p, requirements);
  } catch (e) {
    const refusal = e instanceof X402Refusal ? e : new X402Refusal("unexpected_settle_error", "Settlement failed");
    if (!(e instanceof X402Refusal)) log.warn("x402 settlement failed", { requestId: ctx.requestId, error: e instanceof Error ? e.name : "unknown" });
    await recordFailure(ctx, id, p, refusal);
    throw refusal;
  }
  await recordSettlement(ctx, id, chain, p, hash, resource);
  return { hash, payer: p.payer };
}

/** The payment, the request it bought (usage counters) and its ledger and audit rows, together. */
async function recordSettlement(ctx: Ctx, id: string, chain: X402Chain, p: VerifiedPayment, hash: Hex, resource: string): Promise<void> {
  const orgId = ctx.principal.orgId;
  const now = Date.now();
  const period = periodOf(now);
  const day = dayOf(now);
  const network = chain.config.network;
  await ctx.rt.db.$transaction(async (tx) => {
    await tx.x402Payment.update({ where: { id }, data: { status: "settled", txHash: hash, settledAt: new Date(now) } });
    await tx.$executeRaw`INSERT INTO "UsagePeriod" ("orgId", "period", "requests", "overage") VALUES (${orgId}, ${period}, 0, 0) ON CONFLICT DO NOTHING`;
    await tx.$executeRaw`UPDATE "UsagePeriod" SET "overage" = "overage" + 1 WHERE "orgId" = ${orgId} AND "period" = ${period}`;
    await tx.$executeRaw`INSERT INTO "UsageDay" ("orgId", "day", "requests") VALUES (${orgId}, ${day}, 1) ON CONFLICT ("orgId", "day") DO UPDATE SET "requests" = "UsageDay"."requests" + 1`;
    // Paid on chain, not from the credit balance: a ledger row of amount 0 that says what was paid.
    await tx.creditTransaction.create({
      data: { id: randomUUID(), orgId, amount: 0n, kind: "x402", description: `x402: 1 request paid ${p.value} units of ${chain.asset} on ${network} by ${p.payer} (tx ${hash})` },
    });
    await appendAudit(
      tx,
      auditRow(ctx, {
        action: "billing.x402.payment",
        resourceType: "org",
        resourceId: orgId,
        details: { payment_id: id, outcome: "settled", network, asset: chain.asset, payer: p.payer, amount: p.value.toString(), tx_hash: hash, resource },
      }),
    );
  });
}

async function recordFailure(ctx: Ctx, id: string, p: VerifiedPayment, refusal: X402Refusal): Promise<void> {
  const orgId = ctx.principal.orgId;
  const error = `${refusal.reason}: ${refusal.message}`.slice(0, 500);
  await ctx.rt.db.$transaction(async (tx) => {
    await tx.x402Payment.update({ where: { id }, data: { status: "failed", error } });
    await appendAudit(
      tx,
      auditRow(ctx, {
        action: "billing.x402.payment",
        resourceType: "org",
        resourceId: orgId,
        details: { payment_id: id, outcome: "failed", payer: p.payer, amount: p.value.toString(), reason: refusal.reason },
      }),
    );
  });
}

/** Whether this server takes x402 payments (the overage method may be set to x402). */
export const x402Offered = (rt: Runtime) => rt.config.x402 !== undefined;
