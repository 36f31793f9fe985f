"use server";
import { type OverageMethodRequest, ZOverageMethodRequest, ZSubscribeRequest, ZTopupRequest } from "@/lib/contract/billing";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { setOverageMethod } from "@/server/billing/service";
import { subscribeCheckout, topupCheckout } from "@/server/billing/stripe";
import { userAction } from "@/server/dashboard/context";

export async function setOverageMethodAction(input: OverageMethodRequest): Promise<ActionResult<{ overage_method: string }>> {
  return userAction(ZOverageMethodRequest, input, (ctx, d) => setOverageMethod(ctx, d));
}

/** Starts a Stripe Checkout for a paid plan, as `POST /v1/billing/subscribe`; the browser goes to the URL. */
export async function upgradeCheckoutAction(input: { tier: "pro" | "business" }): Promise<ActionResult<{ checkout_url: string }>> {
  return userAction(ZSubscribeRequest, input, (ctx, d) => subscribeCheckout(ctx, d.tier));
}

/** Starts a Stripe Checkout for credits, as `POST /v1/billing/credits/topup`. */
export async function topupCheckoutAction(input: { amount_cents: number }): Promise<ActionResult<{ checkout_url: string }>> {
  return userAction(ZTopupRequest, input, (ctx, d) => topupCheckout(ctx, d.amount_cents));
}
