import type { X402Payment, X402WellKnown } from "../../lib/contract/x402";
import { X402_VERSION } from "../../lib/contract/x402";
import type { Ctx, PublicCtx } from "../http/principal";
import { MAX_TIMEOUT_SECONDS } from "./x402";
import { x402Chain } from "./x402-chain";

const STATUSES = new Set(["settling", "settled", "failed"]);

/** The org's x402 payments, newest first: what the billing page lists. Any member or agent may read them. */
export async function listX402Payments(ctx: Ctx, limit: number): Promise<{ payments: X402Payment[] }> {
  const rows = await ctx.rt.db.x402Payment.findMany({ where: { orgId: ctx.principal.orgId }, orderBy: [{ createdAt: "desc" }, { id: "asc" }], take: limit });
  return {
    payments: rows.map((r) => ({
      id: r.id,
      network: r.network,
      asset: r.asset,
      payer: r.payer,
      pay_to: r.payTo,
      amount: r.amount,
      // A damaged row reads as failed, never as paid.
      status: STATUSES.has(r.status) ? (r.status as X402Payment["status"]) : "failed",
      tx_hash: r.txHash,
      resource: r.resource,
      error: r.error,
      created_at: r.createdAt.toISOString(),
      settled_at: r.settledAt?.toISOString() ?? null,
    })),
  };
}

/**
 * `/.well-known/x402`: what this server takes, for clients that look before they are asked. Public:
 * it names the operator's receiving address, token and price, all of which any 402 shows anyway.
 */
export async function x402Discovery(ctx: PublicCtx): Promise<X402WellKnown> {
  const chain = x402Chain(ctx.rt);
  const base = {
    x402Version: X402_VERSION,
    applies_to: "Metered /v1 requests of an organisation whose monthly quota is used up and whose overage method is x402 (billing on)",
  };
  if (!chain || ctx.rt.config.billing === "off") {
    return { ...base, enabled: false, description: "This server does not take x402 payments", accepts: [] };
  }
  let extra = { name: chain.config.assetName ?? "", version: chain.config.assetVersion ?? "" };
  try {
    const d = await chain.domain();
    extra = { name: d.name, version: d.version };
  } catch {
    // The chain is unreachable: the configured domain (possibly empty) is still what is accepted.
  }
  return {
    ...base,
    enabled: true,
    description: "Each request past the quota costs maxAmountRequired atomic units of asset, paid to payTo with an EIP-3009 authorization in X-PAYMENT",
    accepts: [
      {
        scheme: "exact",
        network: chain.config.network,
        maxAmountRequired: chain.config.price.toString(),
        description: "One Talon API request past the organisation's monthly quota",
        mimeType: "application/json",
        payTo: chain.payTo,
        maxTimeoutSeconds: MAX_TIMEOUT_SECONDS,
        asset: chain.asset,
        extra,
      },
    ],
  };
}
