import { z } from "@hono/zod-openapi";

const ZUsed = z.object({ used: z.number().int(), limit: z.number().int().nullable().openapi({ description: "null = unlimited" }) });

export const ZTier = z.enum(["free", "pro", "business", "enterprise"]);
export const ZOverageMethod = z.enum(["credits", "x402"]);

export const ZSubscriptionResponse = z
  .object({
    tier: ZTier,
    status: z.string(),
    period_end: z.string().nullable(),
    credit_balance_cents: z.number(),
    overage_method: z.string(),
    usage: z.object({ requests: ZUsed, vaults: ZUsed, secrets: ZUsed, agents: ZUsed }),
  })
  .openapi("Subscription");

export const ZUsageResponse = z
  .object({
    period: z.string().openapi({ example: "2026-11" }),
    tier: ZTier,
    requests_used: z.number().int(),
    requests_limit: z.number().int().nullable(),
    overage_requests: z.number().int(),
    daily: z.array(z.object({ day: z.string(), requests: z.number().int() })),
  })
  .openapi("Usage");

export const ZHistoryQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50).openapi({ param: { name: "limit", in: "query" } }),
});

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

export const ZHistoryResponse = z.object({ events: z.array(ZHistoryEvent) }).openapi("UsageHistory");

export const ZCreditBalanceResponse = z
  .object({
    balance_cents: z.number(),
    expiring: z.array(z.object({ amount_cents: z.number(), expires_at: z.string() })),
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

export const ZCreditTransactionsResponse = z.object({ transactions: z.array(ZCreditTransaction) }).openapi("CreditTransactions");

export const ZOverageMethodRequest = z.strictObject({ method: ZOverageMethod }).openapi("OverageMethodRequest");
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
export type CreditBalanceResponse = z.infer<typeof ZCreditBalanceResponse>;
export type CreditTransactionResponse = z.infer<typeof ZCreditTransaction>;
