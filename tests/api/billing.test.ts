import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { periodOf } from "../../server/billing/tiers";
import { signUpVerified } from "../helpers/accounts";
import { agentToken, registerAgent } from "../helpers/agents";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/** The billing routes, the overage-method switch, Stripe-less behaviour and the set-tier script. */
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ env: { TALON_BILLING: "on" } });
});
afterAll(async () => {
  await server?.close();
});

/** `npm run billing:set-tier -- …` as the operator runs it: a child process on the server's database. */
async function setTier(args: string[]) {
  const tsx = path.resolve("node_modules/.bin/tsx");
  try {
    const { stdout } = await promisify(execFile)(tsx, ["scripts/set-tier.ts", ...args], {
      env: { ...process.env, DATABASE_URL: server.databaseUrl, TALON_DATA_DIR: server.dataDir, TALON_LOG_LEVEL: "error" },
    });
    return { code: 0, stdout, stderr: "" };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("billing routes", () => {
  test("subscription, usage and history describe a fresh free org", async () => {
    const { token } = await signUpVerified(server, { tier: "free" });
    const api = client(server.url, token);
    expect((await api.post("/v1/vaults", { name: "one" })).status).toBe(201);
    await api.get("/v1/vaults");

    const sub = await api.get("/v1/billing/subscription");
    expect(sub.status).toBe(200);
    expect(sub.body).toEqual({
      billing: "on",
      tier: "free",
      status: "active",
      period_end: null,
      interval: "month",
      credit_balance_cents: 0,
      credit_balance_usd: "0.00",
      overage_method: "credits",
      usage: {
        requests: { used: 2, limit: 1000 },
        vaults: { used: 1, limit: 3 },
        secrets: { used: 0, limit: 50 },
        agents: { used: 0, limit: 2 },
        team_members: { used: 1, limit: null },
        proxy_transactions: { used: 0, limit: null },
        shares: { used: 0, limit: null },
      },
    });

    const usage = await api.get("/v1/billing/usage");
    expect(usage.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    expect(usage.body).toEqual({
      billing: "on",
      period: periodOf(Date.now()),
      tier: "free",
      requests_used: 2,
      requests_limit: 1000,
      overage_requests: 0,
      daily: [{ day: today, requests: 2 }],
      billing_tier: "free",
      free_tier_limit: 1000,
      current_month: { total_requests: 2, paid_requests: 0, free_requests: 2, total_cost_usd: "0.00" },
    });

    const history = await api.get("/v1/billing/history?limit=10");
    expect(history.status).toBe(200);
    expect(history.body.ledger).toEqual([{ type: "usage", at: today, requests: 2, amount_cents: null, kind: null, description: "2 metered requests" }]);
    expect((await api.get("/v1/billing/history?limit=0")).status).toBe(400);
  });

  test("set-tier script: tier by email, credits by org id, bad input refused", async () => {
    const { token, orgId, email } = await signUpVerified(server, { tier: "free" });
    const api = client(server.url, token);

    const tier = await setTier(["--org", email, "--tier", "pro", "--credits-cents", "1250"]);
    expect(tier.code).toBe(0);
    expect(tier.stdout).toContain("tier free -> pro");
    expect(tier.stdout).toContain("+1250 cents of credits");

    const sub = await api.get("/v1/billing/subscription");
    expect(sub.body.tier).toBe("pro");
    expect(sub.body.credit_balance_cents).toBe(1250);
    expect(sub.body.usage.vaults.limit).toBe(25);

    const balance = await api.get("/v1/billing/credits/balance");
    expect(balance.status).toBe(200);
    expect(balance.body.balance_cents).toBe(1250);
    expect(balance.body.expiring).toHaveLength(1);
    expect(balance.body.expiring[0].amount_cents).toBe(1250);
    const expiresIn = Date.parse(balance.body.expiring[0].expires_at) - Date.now();
    expect(expiresIn).toBeGreaterThan(364 * 24 * 3600 * 1000);

    const tx = await api.get("/v1/billing/credits/transactions");
    expect(tx.status).toBe(200);
    expect(tx.body.transactions).toHaveLength(1);
    expect(tx.body.transactions[0]).toMatchObject({ amount_cents: 1250, kind: "grant", description: "Credits added by the server operator" });
    expect((await api.get("/v1/billing/history")).body.ledger.some((e: { type: string; amount_cents: number }) => e.type === "credit" && e.amount_cents === 1250)).toBe(true);

    const unlimited = await setTier(["--org", orgId, "--tier", "enterprise"]);
    expect(unlimited.code).toBe(0);
    expect((await api.get("/v1/billing/subscription")).body.usage).toMatchObject({ requests: { limit: null }, vaults: { limit: null } });

    expect((await setTier(["--org", orgId, "--tier", "platinum"])).code).toBe(2);
    expect((await setTier(["--org", orgId, "--credits-cents", "0"])).code).toBe(2);
    const unknown = await setTier(["--org", "nobody@example.test", "--tier", "pro"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no organisation found");
  }, 180_000);

  test("overage method: credits accepted, x402 refused as unsupported, agents and unknown values refused", async () => {
    const { token } = await signUpVerified(server);
    const api = client(server.url, token);
    const ok = await api.patch("/v1/billing/overage-method", { method: "credits" });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ overage_method: "credits" });

    const x402 = await api.patch("/v1/billing/overage-method", { method: "x402" });
    expect(x402.status).toBe(400);
    expect(x402.body.detail).toBe("The x402 overage method is not supported on this server; use credits");
    expect((await api.patch("/v1/billing/overage-method", { method: "iou" })).status).toBe(400);
    expect((await api.get("/v1/billing/subscription")).body.overage_method).toBe("credits");

    // Agents read billing (to explain a 402 to their human) but change nothing.
    const agent = await registerAgent(server.url, token);
    const agentApi = client(server.url, await agentToken(server.url, agent.id, agent.apiKey));
    expect((await agentApi.get("/v1/billing/subscription")).status).toBe(200);
    expect((await agentApi.get("/v1/billing/credits/balance")).status).toBe(200);
    const denied = await agentApi.patch("/v1/billing/overage-method", { method: "credits" });
    expect(denied.status).toBe(403);
    expect((await agentApi.post("/v1/billing/credits/topup", { amount_cents: 500 })).status).toBe(403);
  });

  test("without Stripe keys: checkout and webhooks answer 503 with a way forward; quotas still work", async () => {
    const { token } = await signUpVerified(server, { tier: "free" });
    const api = client(server.url, token);
    for (const [p, body] of [
      ["/v1/billing/subscribe", { tier: "pro" }],
      ["/v1/billing/credits/topup", { amount_cents: 500 }],
    ] as const) {
      const r = await api.post(p, body);
      expect(r.status, p).toBe(503);
      expect(r.body.detail, p).toContain("Stripe is not configured on this server");
      expect(r.body.detail, p).toContain("billing:set-tier");
    }
    expect((await api.post("/v1/billing/credits/topup", { amount_cents: 499 })).status).toBe(400);
    expect((await api.post("/v1/billing/credits/topup", { amount_cents: 100_001 })).status).toBe(400);
    const hook = await client(server.url).post("/v1/billing/webhooks", "{}", { "stripe-signature": "t=1,v1=00" });
    expect(hook.status).toBe(503);
    expect((await api.get("/v1/vaults")).headers.get("x-ratelimit-requests-limit")).toBe("1000");
  });

  test("billing routes need authentication", async () => {
    for (const p of ["/v1/billing/subscription", "/v1/billing/usage", "/v1/billing/history", "/v1/billing/credits/balance", "/v1/billing/credits/transactions"]) {
      expect((await client(server.url).get(p)).status, p).toBe(401);
    }
  });
});
