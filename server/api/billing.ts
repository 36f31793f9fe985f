import { createRoute, type z } from "@hono/zod-openapi";
import {
  ZCheckoutResponse,
  ZCreditBalanceResponse,
  ZCreditTransactionsQuery,
  ZCreditTransactionsResponse,
  ZHistoryQuery,
  ZHistoryResponse,
  ZOverageMethodRequest,
  ZOverageMethodResponse,
  ZSubscribeRequest,
  ZSubscriptionResponse,
  ZTopupRequest,
  ZUsageResponse,
  ZWebhookResponse,
} from "../../lib/contract/billing";
import { problemResponses } from "../../lib/contract/common";
import {
  getCreditBalance,
  getCreditTransactions,
  getHistory,
  getSubscription,
  getUsage,
  setOverageMethod,
} from "../billing/service";
import { handleStripeWebhook, subscribeCheckout, topupCheckout } from "../billing/stripe";
import { type ApiApp, ctxOf, publicCtxOf, requireAuth } from "../http/pipeline";

const json = <T>(schema: T) => ({ "application/json": { schema } });
const tags = ["Billing"];

const read = <T extends z.ZodType>(path: string, summary: string, schema: T) =>
  createRoute({ method: "get", path, tags, summary, middleware: [requireAuth], responses: { 200: { description: summary, content: json(schema) }, ...problemResponses(401) } });

const subscription = read("/v1/billing/subscription", "Subscription status, usage and credit balance", ZSubscriptionResponse);
const usage = read("/v1/billing/usage", "Usage summary for the current month", ZUsageResponse);
const balance = read("/v1/billing/credits/balance", "Credit balance and expiring credits", ZCreditBalanceResponse);
const transactions = createRoute({
  method: "get",
  path: "/v1/billing/credits/transactions",
  tags,
  summary: "Credit transaction ledger, newest first, a page at a time",
  middleware: [requireAuth],
  request: { query: ZCreditTransactionsQuery },
  responses: { 200: { description: "Credit transaction ledger", content: json(ZCreditTransactionsResponse) }, ...problemResponses(400, 401) },
});

const history = createRoute({
  method: "get",
  path: "/v1/billing/history",
  tags,
  summary: "Usage history: each metered request (events, with billing on), and requests per day and credit movements (ledger), newest first",
  middleware: [requireAuth],
  request: { query: ZHistoryQuery },
  responses: { 200: { description: "History", content: json(ZHistoryResponse) }, ...problemResponses(400, 401) },
});

const overage = createRoute({
  method: "patch",
  path: "/v1/billing/overage-method",
  tags,
  summary: "Set what happens past the monthly quota (409 when the server runs with billing off)",
  middleware: [requireAuth],
  request: { body: { required: true, content: json(ZOverageMethodRequest) } },
  responses: { 200: { description: "Updated", content: json(ZOverageMethodResponse) }, ...problemResponses(400, 401, 403, 409) },
});

const subscribe = createRoute({
  method: "post",
  path: "/v1/billing/subscribe",
  tags,
  summary: "Start a Stripe Checkout for a paid plan (409 when the server runs with billing off)",
  middleware: [requireAuth],
  request: { body: { required: true, content: json(ZSubscribeRequest) } },
  responses: { 200: { description: "Checkout session", content: json(ZCheckoutResponse) }, ...problemResponses(400, 401, 403, 409, 503) },
});

const topup = createRoute({
  method: "post",
  path: "/v1/billing/credits/topup",
  tags,
  summary: "Start a Stripe Checkout to buy credits ($5 – $1,000) (409 when the server runs with billing off)",
  middleware: [requireAuth],
  request: { body: { required: true, content: json(ZTopupRequest) } },
  responses: { 200: { description: "Checkout session", content: json(ZCheckoutResponse) }, ...problemResponses(400, 401, 403, 409, 503) },
});

// No body schema: the signature covers the raw bytes, so the handler must read them unparsed.
const webhook = createRoute({
  method: "post",
  path: "/v1/billing/webhooks",
  tags,
  summary: "Stripe webhook (signature verified; applied whatever the billing mode, so plans stay current for when billing is on)",
  security: [],
  responses: { 200: { description: "Accepted", content: json(ZWebhookResponse) }, ...problemResponses(400, 503) },
});

export function registerBillingRoutes(app: ApiApp) {
  app.openapi(subscription, async (c) => c.json(await getSubscription(ctxOf(c)), 200));
  app.openapi(usage, async (c) => c.json(await getUsage(ctxOf(c)), 200));
  app.openapi(history, async (c) => c.json(await getHistory(ctxOf(c), c.req.valid("query").limit), 200));
  app.openapi(balance, async (c) => c.json(await getCreditBalance(ctxOf(c)), 200));
  app.openapi(transactions, async (c) => c.json(await getCreditTransactions(ctxOf(c), c.req.valid("query")), 200));
  app.openapi(overage, async (c) => c.json(await setOverageMethod(ctxOf(c), c.req.valid("json")), 200));
  app.openapi(subscribe, async (c) => c.json(await subscribeCheckout(ctxOf(c), c.req.valid("json").tier), 200));
  app.openapi(topup, async (c) => c.json(await topupCheckout(ctxOf(c), c.req.valid("json").amount_cents), 200));
  app.openapi(webhook, async (c) => c.json(await handleStripeWebhook(publicCtxOf(c), await c.req.text(), c.req.header("stripe-signature")), 200));
}
