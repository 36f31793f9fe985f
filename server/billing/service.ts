import type { HistoryEvent, OverageMethodRequest, SubscriptionResponse, UsageEvent, UsageResponse } from "../../lib/contract/billing";
import { appendAudit } from "../audit/chain";
import { auditRow } from "../audit/writer";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { creditBalance, creditTransactions } from "./credits";
import { countResources } from "./limits";
import { meterFor, usageEventsFor } from "./metering";
import { centsOf, periodOf, periodStart, planOf, usdOf } from "./tiers";
import { x402Offered } from "./x402";

/**
 * Billing reads are open to every member of the org and to its agents (an agent that hits 402 should
 * be able to tell its human why); changes that cost money or alter the plan need an owner or admin.
 */
export function requireBillingAdmin(ctx: Ctx): void {
  if (ctx.principal.kind !== "user") throw ApiError.forbidden("Billing changes are made by a human owner or admin");
  if (ctx.principal.role === "member") throw ApiError.forbidden("Only an owner or admin can change billing");
}

/**
 * Plans, credits and checkouts exist only with billing on. With it off the routes that would change
 * them answer 409 (the route exists; this server's configuration rules the change out), so a client
 * written for the card reads the reason instead of a 404 that looks like a wrong URL.
 */
export function requireBillingOn(ctx: Ctx): void {
  if (ctx.rt.config.billing === "off") {
    throw ApiError.conflict("Billing is off on this server (TALON_BILLING=off): there are no plans, quotas or credits, and every organisation is unlimited");
  }
}

async function currentUsage(ctx: Ctx) {
  // What this instance holds in reserve is not "used": hand it back so the figures are exact.
  await meterFor(ctx.rt).reset(ctx.principal.orgId);
  return ctx.rt.db.usagePeriod.findUnique({
    where: { orgId_period: { orgId: ctx.principal.orgId, period: periodOf(Date.now()) } },
  });
}

export async function getSubscription(ctx: Ctx): Promise<SubscriptionResponse> {
  const orgId = ctx.principal.orgId;
  const usage = await currentUsage(ctx);
  const db = ctx.rt.db;
  const now = new Date();
  const [org, vaults, secrets, agents, members, transactions, shares] = await Promise.all([
    db.org.findUniqueOrThrow({ where: { id: orgId } }),
    countResources(db, orgId, "vault"),
    countResources(db, orgId, "secret"),
    countResources(db, orgId, "agent"),
    db.user.count({ where: { orgId } }),
    db.agentTransaction.count({ where: { orgId, createdAt: { gte: periodStart(now.getTime()) } } }),
    db.share.count({ where: { orgId, revokedAt: null, endedAt: null, expiresAt: { gt: now } } }),
  ]);
  const { name, tier } = planOf(ctx.rt.config.billing, org.tier);
  return {
    billing: ctx.rt.config.billing,
    tier: name,
    status: org.subscriptionStatus,
    period_end: org.periodEnd?.toISOString() ?? null,
    interval: "month",
    credit_balance_cents: centsOf(org.creditBalance),
    credit_balance_usd: usdOf(org.creditBalance),
    overage_method: org.overageMethod,
    usage: {
      requests: { used: usage?.requests ?? 0, limit: tier.requestsPerMonth },
      vaults: { used: vaults, limit: tier.vaults },
      secrets: { used: secrets, limit: tier.secrets },
      agents: { used: agents, limit: tier.agents },
      // No plan limits these (the card's tiers name none).
      team_members: { used: members, limit: null },
      proxy_transactions: { used: transactions, limit: null },
      shares: { used: shares, limit: null },
    },
  };
}

export async function getUsage(ctx: Ctx): Promise<UsageResponse> {
  const orgId = ctx.principal.orgId;
  const period = periodOf(Date.now());
  const usage = await currentUsage(ctx);
  const [org, days, charged] = await Promise.all([
    ctx.rt.db.org.findUniqueOrThrow({ where: { id: orgId }, select: { tier: true } }),
    ctx.rt.db.usageDay.findMany({ where: { orgId, day: { startsWith: period } }, orderBy: { day: "asc" } }),
    // Overage reservations minus what was handed back: what the month's paid requests cost.
    ctx.rt.db.creditTransaction.findMany({
      where: { orgId, kind: { in: ["overage", "overage_refund"] }, createdAt: { gte: periodStart(Date.now()) } },
      select: { amount: true },
    }),
  ]);
  const { name, tier } = planOf(ctx.rt.config.billing, org.tier);
  // `requests` counts what the quota covered; requests past it are counted apart, as `overage`.
  const free = usage?.requests ?? 0;
  const paid = usage?.overage ?? 0;
  const cost = -charged.reduce((sum, t) => sum + t.amount, 0n);
  return {
    billing: ctx.rt.config.billing,
    period,
    tier: name,
    requests_used: free,
    requests_limit: tier.requestsPerMonth,
    overage_requests: usage?.overage ?? 0,
    daily: days.map((d) => ({ day: d.day, requests: d.requests })),
    billing_tier: name,
    free_tier_limit: tier.requestsPerMonth,
    current_month: { total_requests: free + paid, paid_requests: paid, free_requests: free, total_cost_usd: usdOf(cost > 0n ? cost : 0n) },
  };
}

/**
 * Newest first: the org's metered requests one by one (the card's events), and Talon's ledger — one
 * row per day with requests, and every credit movement.
 */
export async function getHistory(ctx: Ctx, limit: number): Promise<{ events: UsageEvent[]; ledger: HistoryEvent[] }> {
  const orgId = ctx.principal.orgId;
  await meterFor(ctx.rt).reset(orgId);
  // Rows still queued on this instance are written first, so a caller sees its own requests.
  await usageEventsFor(ctx.rt).flush();
  const [requests, days, credits] = await Promise.all([
    ctx.rt.db.usageEvent.findMany({ where: { orgId }, orderBy: [{ createdAt: "desc" }, { id: "asc" }], take: limit }),
    ctx.rt.db.usageDay.findMany({ where: { orgId }, orderBy: { day: "desc" }, take: limit }),
    creditTransactions(ctx.rt.db, orgId, { limit }),
  ]);
  const events: HistoryEvent[] = [
    ...days.map((d) => ({ type: "usage" as const, at: d.day, requests: d.requests, amount_cents: null, kind: null, description: `${d.requests} metered requests` })),
    ...credits.transactions.map((t) => ({ type: "credit" as const, at: t.created_at, requests: null, amount_cents: t.amount_cents, kind: t.kind, description: t.description })),
  ];
  // A day "2026-11-23" sorts before any instant on that day; newest first overall.
  events.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  return {
    events: requests.map((r) => ({
      id: r.id,
      principal_type: r.principalType as UsageEvent["principal_type"],
      principal_id: r.principalId,
      method: r.method,
      endpoint: r.endpoint,
      status_code: r.statusCode,
      price_usd: usdOf(r.priceMillicents),
      is_paid: r.isPaid,
      created_at: r.createdAt.toISOString(),
    })),
    ledger: events.slice(0, limit),
  };
}

export const getCreditBalance = (ctx: Ctx) => creditBalance(ctx.rt.db, ctx.principal.orgId);
export const getCreditTransactions = (ctx: Ctx, page?: { page?: number; limit?: number }) => creditTransactions(ctx.rt.db, ctx.principal.orgId, page);

/** `input` carries exactly one of `method` and `overage_method` (the contract refuses both or neither). */
export async function setOverageMethod(ctx: Ctx, input: OverageMethodRequest): Promise<{ overage_method: string }> {
  requireBillingOn(ctx);
  requireBillingAdmin(ctx);
  const field = input.method !== undefined ? "method" : "overage_method";
  const method = input.method ?? input.overage_method;
  if (method === undefined) throw ApiError.badRequest("Send method or overage_method", [{ field: "method", message: "required" }]);
  if (method === "x402" && !x402Offered(ctx.rt)) {
    throw ApiError.badRequest("The x402 overage method is not supported on this server; use credits", [
      { field, message: "x402 is not supported on this server" },
    ]);
  }
  await ctx.rt.db.$transaction(async (tx) => {
    await tx.org.update({ where: { id: ctx.principal.orgId }, data: { overageMethod: method } });
    await appendAudit(tx, auditRow(ctx, { action: "billing.overage_method", resourceType: "org", resourceId: ctx.principal.orgId, details: { method } }));
  });
  await meterFor(ctx.rt).reset(ctx.principal.orgId);
  return { overage_method: method };
}
