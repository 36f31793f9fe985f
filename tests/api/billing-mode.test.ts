import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { meterFor } from "../../server/billing/metering";
import { periodOf } from "../../server/billing/tiers";
import { ConfigError, loadConfig } from "../../server/config";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * TALON_BILLING: `off` (the default, a self-hosted install) has no plans, quotas, 402s or resource
 * limits, but still counts and shows usage; `on` is the reseller's mode with the card's tiers. The same
 * free-tier org does the same things on both servers: a 4th vault, a 3rd agent and request 1,001+.
 */
let off: TestServer;
let on: TestServer;

beforeAll(async () => {
  // One PKCS#11 token per process: the second server keeps its keys in the local keystore.
  [off, on] = await Promise.all([startTestServer(), startTestServer({ env: { TALON_BILLING: "on", TALON_KEYSTORE: "local" } })]);
});
afterAll(async () => {
  await Promise.all([off?.close(), on?.close()]);
});

/** A free-tier org with 3 vaults and 2 agents, the free plan's limits. */
async function orgAtTheFreeLimits(server: TestServer) {
  const acct = await signUpVerified(server, { tier: "free" });
  const api = client(server.url, acct.token);
  for (const name of ["a", "b", "c"]) expect((await api.post("/v1/vaults", { name })).status).toBe(201);
  for (const name of ["agent-1", "agent-2"]) expect((await api.post("/v1/agents", { name })).status).toBe(201);
  return { ...acct, api };
}

/** Puts the org's month at the free quota (1,000 requests), after the meter handed back what it held. */
async function atTheQuota(server: TestServer, orgId: string) {
  await meterFor(server.rt).releaseAll();
  const period = periodOf(Date.now());
  await server.rt.db.usagePeriod.upsert({ where: { orgId_period: { orgId, period } }, create: { orgId, period, requests: 1000 }, update: { requests: 1000 } });
}

describe("TALON_BILLING", () => {
  test("defaults to off; on and off are the only values, anything else is a one-line error naming it", () => {
    expect(loadConfig({}).billing).toBe("off");
    expect(loadConfig({ TALON_BILLING: "on" }).billing).toBe("on");
    let message = "";
    try {
      loadConfig({ TALON_BILLING: "yes" });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      message = (e as Error).message;
    }
    expect(message).toBe("Invalid configuration: TALON_BILLING must be on or off");
  });
});

describe("billing off (the default)", () => {
  test("a 4th vault, a 3rd agent and requests past 1,000 all succeed; usage is still counted and shown", async () => {
    const { api, orgId } = await orgAtTheFreeLimits(off);
    expect((await api.post("/v1/vaults", { name: "d" })).status).toBe(201);
    expect((await api.post("/v1/agents", { name: "agent-3" })).status).toBe(201);

    await atTheQuota(off, orgId);
    for (let i = 1; i <= 3; i++) {
      const res = await api.get("/v1/vaults");
      expect(res.status).toBe(200);
      expect(res.headers.get("x-ratelimit-requests-used")).toBe(String(1000 + i));
      expect(res.headers.get("x-ratelimit-requests-limit")).toBe("unlimited");
      // Nothing to pay with, so no credit or overage headers.
      expect(res.headers.get("x-credit-balance-cents")).toBeNull();
      expect(res.headers.get("x-overage-method")).toBeNull();
    }
    // Counted, not charged: no credit was drawn, no overage recorded.
    await meterFor(off.rt).releaseAll();
    const usage = await api.get("/v1/billing/usage");
    expect(usage.status).toBe(200);
    expect(usage.body).toMatchObject({
      billing: "off",
      tier: "enterprise",
      requests_used: 1003,
      requests_limit: null,
      overage_requests: 0,
      free_tier_limit: null,
      current_month: { total_requests: 1003, paid_requests: 0, total_cost_usd: "0.00" },
    });
    const sub = await api.get("/v1/billing/subscription");
    expect(sub.body).toMatchObject({ billing: "off", tier: "enterprise" });
    expect(sub.body.usage).toMatchObject({ requests: { used: 1003, limit: null }, vaults: { used: 4, limit: null }, agents: { used: 3, limit: null }, secrets: { limit: null } });
    // The stored plan is untouched: it applies again if the operator turns billing on.
    expect((await off.rt.db.org.findUniqueOrThrow({ where: { id: orgId } })).tier).toBe("free");
  });

  test("changing the plan, buying credits or the overage method answers 409 saying billing is off; reads still answer", async () => {
    const { token } = await signUpVerified(off, { tier: "free" });
    const api = client(off.url, token);
    for (const res of [
      await api.patch("/v1/billing/overage-method", { method: "credits" }),
      await api.post("/v1/billing/subscribe", { tier: "pro" }),
      await api.post("/v1/billing/credits/topup", { amount_cents: 500 }),
    ]) {
      expect(res.status).toBe(409);
      expect(res.body.detail).toMatch(/^Billing is off on this server \(TALON_BILLING=off\)/);
    }
    expect((await api.get("/v1/billing/credits/balance")).body).toMatchObject({ balance_cents: 0 });
    expect((await api.get("/v1/billing/credits/transactions")).body.transactions).toEqual([]);
    expect((await api.get("/v1/billing/history")).status).toBe(200);
  });
});

describe("billing on", () => {
  test("the same org is refused a 4th vault (403), a 3rd agent (403) and request 1,001 (402), as the free tier says", async () => {
    const { api, orgId } = await orgAtTheFreeLimits(on);
    const vault = await api.post("/v1/vaults", { name: "d" });
    expect(vault.status).toBe(403);
    expect(vault.body).toMatchObject({ type: "resource_limit_exceeded", detail: expect.stringMatching(/^Vault limit reached \(3\/3 on free tier\)/) });
    const agent = await api.post("/v1/agents", { name: "agent-3" });
    expect(agent.status).toBe(403);
    expect(agent.body).toMatchObject({ type: "resource_limit_exceeded", detail: expect.stringMatching(/^Agent limit reached \(2\/2 on free tier\)/) });

    await atTheQuota(on, orgId);
    const over = await api.get("/v1/vaults");
    expect(over.status).toBe(402);
    expect(over.headers.get("x-ratelimit-requests-limit")).toBe("1000");
    expect(over.headers.get("x-credit-balance-cents")).toBe("0.00");

    await meterFor(on.rt).releaseAll();
    const usage = await api.get("/v1/billing/usage");
    expect(usage.body).toMatchObject({ billing: "on", tier: "free", requests_used: 1000, requests_limit: 1000, free_tier_limit: 1000 });
    // Positive control: the overage method can be set with billing on.
    expect((await api.patch("/v1/billing/overage-method", { method: "credits" })).status).toBe(200);
  });
});
