import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Stripe checkout and webhooks. Webhook payloads are signed with the `stripe` package's own test
 * helper. api.stripe.com is unreachable here, so checkout calls go (via STRIPE_API_BASE) to a loopback
 * stand-in for Stripe's API that records the request and answers a minimal Checkout Session — a third
 * party's server, not a part of Talon.
 */
const WEBHOOK_SECRET = "whsec_talon_test_secret";
let server: TestServer;
let stripeStandIn: Server;
const recorded: { method: string; path: string; auth: string; body: URLSearchParams }[] = [];
const stripe = new Stripe("sk_test_unused");

beforeAll(async () => {
  stripeStandIn = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString()));
    req.on("end", () => {
      recorded.push({ method: req.method!, path: req.url!, auth: req.headers.authorization ?? "", body: new URLSearchParams(raw) });
      const id = `cs_test_${recorded.length}`;
      res.writeHead(200, { "Content-Type": "application/json", "Request-Id": "req_standin" });
      res.end(JSON.stringify({ id, object: "checkout.session", url: `https://checkout.stripe.test/c/pay/${id}` }));
    });
  });
  await new Promise<void>((r) => stripeStandIn.listen(0, "127.0.0.1", r));
  const port = (stripeStandIn.address() as AddressInfo).port;
  server = await startTestServer({
    env: { TALON_BILLING: "on", STRIPE_SECRET_KEY: "sk_test_talon", STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_BASE: `http://127.0.0.1:${port}` },
  });
});
afterAll(async () => {
  await server?.close();
  stripeStandIn?.closeAllConnections();
  await new Promise((r) => stripeStandIn?.close(r));
});

let seq = 0;
function signedEvent(type: string, object: Record<string, unknown>, secret = WEBHOOK_SECRET, id = `evt_test_${Date.now()}_${++seq}`) {
  const payload = JSON.stringify({ id, object: "event", type, api_version: "2025-01-01", created: Math.floor(Date.now() / 1000), data: { object } });
  return { id, payload, signature: stripe.webhooks.generateTestHeaderString({ payload, secret }) };
}

const deliver = (e: { payload: string; signature: string }) =>
  client(server.url).post("/v1/billing/webhooks", e.payload, { "Content-Type": "application/json", "Stripe-Signature": e.signature });

describe("Stripe checkout", () => {
  test("top-up and subscribe create Checkout Sessions carrying the org and amount", async () => {
    const { token, orgId } = await signUpVerified(server, { tier: "free" });
    const api = client(server.url, token);
    const topup = await api.post("/v1/billing/credits/topup", { amount_cents: 2500 });
    expect(topup.status).toBe(200);
    expect(topup.body.checkout_url).toMatch(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_\d+$/);
    const sent = recorded.at(-1)!;
    expect(sent.method).toBe("POST");
    expect(sent.path).toBe("/v1/checkout/sessions");
    expect(sent.auth).toBe("Bearer sk_test_talon");
    expect(sent.body.get("mode")).toBe("payment");
    expect(sent.body.get("line_items[0][price_data][unit_amount]")).toBe("2500");
    expect(sent.body.get("metadata[org_id]")).toBe(orgId);
    expect(sent.body.get("metadata[kind]")).toBe("topup");
    expect(sent.body.get("client_reference_id")).toBe(orgId);

    const sub = await api.post("/v1/billing/subscribe", { tier: "pro" });
    expect(sub.status).toBe(200);
    const subSent = recorded.at(-1)!;
    expect(subSent.body.get("mode")).toBe("subscription");
    expect(subSent.body.get("line_items[0][price_data][unit_amount]")).toBe("2900");
    expect(subSent.body.get("metadata[tier]")).toBe("pro");
    expect((await api.post("/v1/billing/subscribe", { tier: "enterprise" })).status).toBe(400);
  });
});

describe("Stripe webhooks", () => {
  test("a signed top-up is applied exactly once, even when delivered twice", async () => {
    const { token, orgId } = await signUpVerified(server, { tier: "free" });
    const event = signedEvent("checkout.session.completed", {
      id: "cs_test_topup",
      object: "checkout.session",
      payment_status: "paid",
      amount_total: 2500,
      metadata: { org_id: orgId, kind: "topup", amount_cents: "2500" },
    });
    const first = await deliver(event);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ received: true, duplicate: false });
    const again = await deliver(event);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ received: true, duplicate: true });

    const api = client(server.url, token);
    expect((await api.get("/v1/billing/credits/balance")).body.balance_cents).toBe(2500);
    const ledger = await server.rt.db.creditTransaction.findMany({ where: { orgId } });
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ amount: 2_500_000n, kind: "topup", stripeEventId: event.id });
  });

  test("a bad or missing signature is refused with 400 and changes nothing", async () => {
    const { orgId } = await signUpVerified(server, { tier: "free" });
    const object = { id: "cs_x", object: "checkout.session", payment_status: "paid", metadata: { org_id: orgId, kind: "topup", amount_cents: "100000" } };
    const forged = signedEvent("checkout.session.completed", object, "whsec_someone_else");
    const r = await deliver(forged);
    expect(r.status).toBe(400);
    expect(r.body.detail).toBe("Invalid Stripe signature");
    // A genuine signature over a different body does not carry over.
    const genuine = signedEvent("checkout.session.completed", object);
    expect((await deliver({ payload: genuine.payload.replace("100000", "99999"), signature: genuine.signature })).status).toBe(400);
    expect((await client(server.url).post("/v1/billing/webhooks", genuine.payload)).status).toBe(400);
    const org = await server.rt.db.org.findUniqueOrThrow({ where: { id: orgId } });
    expect(org.creditBalance).toBe(0n);
    expect(await server.rt.db.stripeEvent.count({ where: { id: { in: [forged.id, genuine.id] } } })).toBe(0);
  });

  test("subscription lifecycle: checkout sets the tier, updates move status and period, deletion returns to free", async () => {
    const { token, orgId } = await signUpVerified(server, { tier: "free" });
    const api = client(server.url, token);
    const subId = `sub_${orgId.slice(0, 8)}`;
    const customer = `cus_${orgId.slice(0, 8)}`;
    const completed = signedEvent("checkout.session.completed", {
      id: "cs_sub",
      object: "checkout.session",
      payment_status: "paid",
      customer,
      subscription: subId,
      metadata: { org_id: orgId, kind: "subscription", tier: "business" },
    });
    expect((await deliver(completed)).status).toBe(200);
    let sub = (await api.get("/v1/billing/subscription")).body;
    expect(sub.tier).toBe("business");
    expect(sub.usage.vaults.limit).toBe(100);

    const periodEnd = Math.floor(Date.now() / 1000) + 30 * 86400;
    const updated = signedEvent("customer.subscription.updated", { id: subId, object: "subscription", status: "past_due", customer, items: { data: [{ current_period_end: periodEnd }] } });
    expect((await deliver(updated)).status).toBe(200);
    sub = (await api.get("/v1/billing/subscription")).body;
    expect(sub.status).toBe("past_due");
    expect(sub.period_end).toBe(new Date(periodEnd * 1000).toISOString());

    const paid = signedEvent("invoice.paid", { id: "in_1", object: "invoice", customer, period_end: periodEnd });
    expect((await deliver(paid)).status).toBe(200);
    expect((await api.get("/v1/billing/subscription")).body.status).toBe("active");

    const deleted = signedEvent("customer.subscription.deleted", { id: subId, object: "subscription", status: "canceled", customer });
    expect((await deliver(deleted)).status).toBe(200);
    sub = (await api.get("/v1/billing/subscription")).body;
    expect(sub.tier).toBe("free");
    expect(sub.status).toBe("canceled");
    // Replaying the old checkout does not resurrect the plan.
    expect((await deliver(completed)).body.duplicate).toBe(true);
    expect((await api.get("/v1/billing/subscription")).body.tier).toBe("free");
  });

  test("events about unknown orgs are acknowledged and change nothing", async () => {
    const e = signedEvent("invoice.paid", { id: "in_x", object: "invoice", customer: "cus_nobody" });
    const r = await deliver(e);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ received: true, duplicate: false });
  });
});
