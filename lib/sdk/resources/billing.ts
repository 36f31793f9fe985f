import type { SdkResponse, Transport } from "../client";
import type { X402Payment } from "../../contract/x402";
import type { Checkout, CreditBalance, CreditTransactions, OverageMethod, OverageMethodResult, Subscription, Usage, UsageHistory } from "../types";

export function billingResource(t: Transport) {
  return {
    subscription: (): Promise<SdkResponse<Subscription>> => t.request("GET", "/v1/billing/subscription"),
    usage: (): Promise<SdkResponse<Usage>> => t.request("GET", "/v1/billing/usage"),
    history: (limit?: number): Promise<SdkResponse<UsageHistory>> => t.request("GET", "/v1/billing/history", { query: { limit } }),
    creditBalance: (): Promise<SdkResponse<CreditBalance>> => t.request("GET", "/v1/billing/credits/balance"),
    creditTransactions: (page?: { page?: number; limit?: number }): Promise<SdkResponse<CreditTransactions>> =>
      t.request("GET", "/v1/billing/credits/transactions", { query: { page: page?.page, limit: page?.limit } }),
    setOverageMethod: (method: OverageMethod): Promise<SdkResponse<OverageMethodResult>> =>
      t.request("PATCH", "/v1/billing/overage-method", { body: { method } }),
    /** A Stripe Checkout URL (when Stripe is configured on the server). */
    subscribe: (tier: "pro" | "business"): Promise<SdkResponse<Checkout>> => t.request("POST", "/v1/billing/subscribe", { body: { tier } }),
    topUp: (amountCents: number): Promise<SdkResponse<Checkout>> => t.request("POST", "/v1/billing/credits/topup", { body: { amount_cents: amountCents } }),
    /** Requests paid with x402 past the quota, newest first (pay with `withPayment` from ./x402). */
    x402Payments: (limit?: number): Promise<SdkResponse<{ payments: X402Payment[] }>> => t.request("GET", "/v1/billing/x402/payments", { query: { limit } }),
  };
}
