import { z } from "@hono/zod-openapi";
import { ZUuid } from "./common";

const ZUsed = z.object({ used: z.number().int(), limit: z.number().int().nullable().openapi({ description: "null = unlimited" }) });
const ZUsd = z.string().openapi({ description: "US dollars as a decimal string (exact: amounts are kept in 1/100,000 of a dollar)", example: "12.5" });

export const ZTier = z.enum(["free", "pro", "business", "enterprise"]);
export const ZBillingMode = z.enum(["on", "off"]).openapi({
  description: "off: this server has no plans, quotas or credits (every org reads as the unlimited enterprise tier; usage is still counted); on: tiers, metering, credits and Stripe",
});
export const ZOverageMethod = z.enum(["credits", "x402"]);

export const ZSubscriptionResponse = z
  .object({
    billing: ZBillingMode,
    tier: ZTier,
    status: z.string(),
    period_end: z.string().nullable(),
    interval: z.literal("month").openapi({ description: "Plans are billed, and request quotas reset, monthly" }),
    credit_balance_cents: z.number(),
    credit_balance_usd: ZUsd,
    overage_method: z.string(),
    usage: z.object({
      requests: ZUsed,
      vaults: ZUsed,
      secrets: ZUsed,
      agents: ZUsed,
      team_members: ZUsed,
      proxy_transactions: ZUsed.openapi({ description: "Crypto-proxy transactions submitted this month" }),
      shares: ZUsed.openapi({ description: "Shares that can still be used (not revoked, ended or expired)" }),
    }),
  })
  .openapi("Subscription");

export const ZUsageResponse = z
  .object({
    billing: ZBillingMode,
    period: z.string().openapi({ example: "2026-11" }),
    tier: ZTier,
    requests_used: z.number().int(),
    requests_limit: z.number().int().nullable(),
    overage_requests: z.number().int(),
    daily: z.array(z.object({ day: z.string(), requests: z.number().int() })),
    billing_tier: ZTier.openapi({ description: "Same as tier (the 1Claw SDK's name)" }),
    free_tier_limit: z.number().int().nullable().openapi({ description: "Requests the plan includes each month; null = unlimited" }),
    current_month: z.object({
      total_requests: z.number().int(),
      paid_requests: z.number().int().openapi({ description: "Requests past the included quota, paid with credits" }),
      free_requests: z.number().int(),
      total_cost_usd: ZUsd.openapi({ description: "What this month's paid requests cost, net of returned reservations" }),
    }),
  })
  .openapi("Usage");

export const ZHistoryQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50).openapi({ param: { name: "limit", in: "query" } }),
});

/** One metered request (the card's history event); recorded with TALON_BILLING=on. */
export const ZUsageEvent = z
  .object({
    id: ZUuid,
    principal_type: z.enum(["user", "agent"]),
    principal_id: ZUuid,
    method: z.string(),
    endpoint: z.string().openapi({ description: "The route template, e.g. /v1/vaults/:id/secrets/:path{.+}; never the raw path" }),
    status_code: z.number().int(),
    price_usd: z.string().openapi({ description: "What the request drew from credits (overage price), \"0.00\" within the quota", example: "0.001" }),
    is_paid: z.boolean().openapi({ description: "Paid past the quota (credits or x402)" }),
    created_at: z.string(),
  })
  .openapi("UsageEvent");

export const ZHistoryEvent = z
  .object({
    type: z.enum(["usage", "credit"]),
    at: z.string().openapi({ description: "The day (usage) or the instant (credit)" }),
    requests: z.number().int().nullable(),
    amount_cents: z.number().nullable(),
    kind: z.string().nullable(),
    description: z.string(),
  })
  .openapi("UsageHistoryEvent");

export const ZHistoryResponse = z
  .object({
    events: z.array(ZUsageEvent).openapi({ description: "Metered requests, newest first (none are recorded with billing off)" }),
    ledger: z.array(ZHistoryEvent).openapi({ description: "Talon's summary: requests per day and every credit movement, newest first" }),
  })
  .openapi("UsageHistory");

export const ZCreditBalanceResponse = z
  .object({
    balance_cents: z.number(),
    balance_usd: ZUsd,
    expiring: z.array(z.object({ amount_cents: z.number(), expires_at: z.string() })),
    expiring_within_90_days: ZUsd.openapi({ description: "Credits that expire within 90 days, at most the balance" }),
  })
  .openapi("CreditBalance");

export const ZCreditTransaction = z
  .object({
    id: z.string(),
    amount_cents: z.number(),
    kind: z.string(),
    description: z.string(),
    expires_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("CreditTransaction");

export const ZCreditTransactionsQuery = z.object({
  page: z.coerce.number().int().min(1).max(100_000).default(1).openapi({ param: { name: "page", in: "query" }, description: "1-based" }),
  limit: z.coerce.number().int().min(1).max(200).default(100).openapi({ param: { name: "limit", in: "query" } }),
});

export const ZCreditTransactionsResponse = z
  .object({ transactions: z.array(ZCreditTransaction), page: z.number().int(), limit: z.number().int() })
  .openapi("CreditTransactions");

/** `method` (Talon's name) or `overage_method` (the 1Claw SDK's): exactly one. */
export const ZOverageMethodRequest = z
  .strictObject({ method: ZOverageMethod.optional(), overage_method: ZOverageMethod.optional() })
  .superRefine((v, ctx) => {
    if (v.method !== undefined && v.overage_method !== undefined) ctx.addIssue({ code: "custom", path: ["overage_method"], message: "send method or overage_method, not both" });
    if (v.method === undefined && v.overage_method === undefined) ctx.addIssue({ code: "custom", path: ["method"], message: "required (or overage_method)" });
  })
  .openapi("OverageMethodRequest");
export const ZOverageMethodResponse = z.object({ overage_method: z.string() }).openapi("OverageMethod");

export const ZSubscribeRequest = z.strictObject({ tier: z.enum(["pro", "business"]) }).openapi("SubscribeRequest");
export const ZTopupRequest = z
  .strictObject({ amount_cents: z.number().int().min(500).max(100_000).openapi({ description: "$5 – $1,000" }) })
  .openapi("TopupRequest");
export const ZCheckoutResponse = z.object({ checkout_url: z.string() }).openapi("CheckoutSession");
export const ZWebhookResponse = z.object({ received: z.boolean(), duplicate: z.boolean() }).openapi("WebhookReceipt");

export type SubscriptionResponse = z.infer<typeof ZSubscriptionResponse>;
export type UsageResponse = z.infer<typeof ZUsageResponse>;
export type HistoryEvent = z.infer<typeof ZHistoryEvent>;
export type UsageEvent = z.infer<typeof ZUsageEvent>;
export type CreditBalanceResponse = z.infer<typeof ZCreditBalanceResponse>;
export type CreditTransactionResponse = z.infer<typeof ZCreditTransaction>;
export type OverageMethodRequest = z.infer<typeof ZOverageMethodRequest>;
