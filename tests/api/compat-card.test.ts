import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { meterFor } from "../../server/billing/metering";
import { periodOf } from "../../server/billing/tiers";
import { base32Decode, currentStep, totpCode } from "../../server/identity/totp";
import { outboxTokenFor, signUpVerified, uniqueEmail } from "../helpers/accounts";
import { NO_LIMITS, registerAgent } from "../helpers/agents";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Drop-in compatibility with the card's clients (issue 16, "Shapes and inputs"): each test sends
 * exactly what the card's curl table, SDK or MCP server sends and checks the fields they read.
 */
let server: TestServer;
let human: Awaited<ReturnType<typeof signUpVerified>>;

beforeAll(async () => {
  server = await startTestServer({ env: { ...NO_LIMITS, TALON_BILLING: "on" } });
  human = await signUpVerified(server);
});
afterAll(async () => {
  await server?.close();
});

describe("GET /v1/auth/api-keys", () => {
  it("lists under `keys` (the card's SDK reads it), `api_keys` kept as an alias", async () => {
    const user = client(server.url, human.token);
    const created = await user.post("/v1/auth/api-keys", { name: "ci" });
    expect(created.status).toBe(201);
    const list = await user.get("/v1/auth/api-keys");
    expect(list.status).toBe(200);
    expect(list.body.keys).toEqual([created.body.key]);
    expect(list.body.api_keys).toEqual(list.body.keys);
    expect(list.text).not.toContain(created.body.api_key);
  });
});

describe("POST /v1/auth/agent-token", () => {
  it("answers the card's shape for { agent_id, api_key }: token_type \"bearer\"", async () => {
    const agent = await registerAgent(server.url, human.token);
    const res = await client(server.url).post("/v1/auth/agent-token", { agent_id: agent.id, api_key: agent.apiKey });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ access_token: expect.any(String), token_type: "bearer", expires_in: 3600, agent_id: agent.id });
    expect((await client(server.url, res.body.access_token).get("/v1/agents/me")).status).toBe(200);
  });

  it("accepts { api_key } alone: the key's prefix names the agent", async () => {
    const agent = await registerAgent(server.url, human.token);
    const res = await client(server.url).post("/v1/auth/agent-token", { api_key: agent.apiKey });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: "bearer", agent_id: agent.id });
    const me = await client(server.url, res.body.access_token).get("/v1/agents/me");
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(agent.id);
  });

  it("refuses a right prefix with a wrong secret, an unknown key and a malformed one with the same 401", async () => {
    const agent = await registerAgent(server.url, human.token);
    const samePrefix = agent.apiKey.slice(0, 16) + (agent.apiKey.at(16) === "A" ? "B" : "A") + agent.apiKey.slice(17);
    const unknown = `ocv_${randomUUID().replace(/-/g, "")}${"A".repeat(11)}`;
    const bodies = [];
    for (const api_key of [samePrefix, unknown, "not-a-key"]) {
      const res = await client(server.url).post("/v1/auth/agent-token", { api_key });
      expect(res.status, api_key).toBe(401);
      bodies.push({ ...res.body, request_id: undefined });
    }
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
    // The agent whose prefix was used records the failure in its org's log.
    const failures = await server.rt.db.auditEvent.findMany({ where: { action: "auth.failure", resourceId: agent.id } });
    expect(failures).toHaveLength(1);
  });

  it("still needs agent_id without an api_key (mtls, OIDC): 400 naming it", async () => {
    const res = await client(server.url).post("/v1/auth/agent-token", { client_assertion: "x.y.z" });
    expect(res.status).toBe(400);
    expect(res.text).toContain("agent_id");
  });
});

describe("agents: the 1Claw SDK's field names", () => {
  it("answers intents_api_enabled beside crypto_proxy_enabled and accepts either on input", async () => {
    const human2 = client(server.url, human.token);
    const viaAlias = await human2.post("/v1/agents", { name: "intents", intents_api_enabled: true });
    expect(viaAlias.status).toBe(201);
    expect(viaAlias.body.agent).toMatchObject({ crypto_proxy_enabled: true, intents_api_enabled: true });
    const plain = await human2.post("/v1/agents", { name: "plain" });
    expect(plain.body.agent).toMatchObject({ crypto_proxy_enabled: false, intents_api_enabled: false });
    const patched = await human2.patch(`/v1/agents/${plain.body.agent.id}`, { intents_api_enabled: true });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ crypto_proxy_enabled: true, intents_api_enabled: true });
    const listed = await human2.get("/v1/agents");
    expect(listed.body.agents.find((a: { id: string }) => a.id === plain.body.agent.id)).toMatchObject({ intents_api_enabled: true });
  });

  it("accepts tx_max_value / tx_daily_limit as the _eth fields (create, update, clear)", async () => {
    const human2 = client(server.url, human.token);
    const created = await human2.post("/v1/agents", { name: "limits", crypto_proxy_enabled: true, tx_max_value: "0.5", tx_daily_limit: "2" });
    expect(created.status).toBe(201);
    expect(created.body.agent).toMatchObject({ tx_max_value_eth: "0.5", tx_daily_limit_eth: "2" });
    const id = created.body.agent.id;
    const updated = await human2.patch(`/v1/agents/${id}`, { tx_max_value: "0.25", tx_daily_limit: null });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ tx_max_value_eth: "0.25", tx_daily_limit_eth: null });
    // Both spellings meaning the same amount are fine.
    expect((await human2.patch(`/v1/agents/${id}`, { tx_max_value: "0.50", tx_max_value_eth: "0.5" })).body).toMatchObject({ tx_max_value_eth: "0.5" });
  });

  it("refuses two spellings that disagree: 400 naming the alias, nothing changed", async () => {
    const human2 = client(server.url, human.token);
    const created = await human2.post("/v1/agents", { name: "agree", tx_max_value_eth: "1" });
    const id = created.body.agent.id;
    for (const [body, field] of [
      [{ crypto_proxy_enabled: true, intents_api_enabled: false }, "intents_api_enabled"],
      [{ tx_max_value_eth: "2", tx_max_value: "3" }, "tx_max_value"],
      [{ tx_daily_limit_eth: "2", tx_daily_limit: null }, "tx_daily_limit"],
    ] as const) {
      const res = await human2.patch(`/v1/agents/${id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.text).toContain(field);
      const create = await human2.post("/v1/agents", { name: "refused", ...body });
      expect(create.status).toBe(400);
    }
    expect((await human2.get(`/v1/agents/${id}`)).body).toMatchObject({ crypto_proxy_enabled: false, tx_max_value_eth: "1", tx_daily_limit_eth: null });
  });
});

describe("people, policies and chains: the fields the card's clients read", () => {
  it("GET /v1/auth/me and org members carry auth_method and totp_enabled; sign-in with MFA on answers { mfa_required, mfa_token }", async () => {
    const acct = await signUpVerified(server);
    const me = client(server.url, acct.token);
    expect((await me.get("/v1/auth/me")).body).toMatchObject({ auth_method: "password", totp_enabled: false });

    const setup = await me.post("/v1/auth/mfa/setup");
    expect(setup.status).toBe(200);
    const code = totpCode(base32Decode(setup.body.secret), currentStep());
    expect((await me.post("/v1/auth/mfa/verify-setup", { code })).status).toBe(200);

    const login = await client(server.url).post("/v1/auth/token", { email: acct.email, password: acct.password });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ mfa_required: true, mfa_token: expect.any(String) });

    const verified = await client(server.url).post("/v1/auth/mfa/verify", { mfa_token: login.body.mfa_token, code: totpCode(base32Decode(setup.body.secret), currentStep() + 1) });
    expect(verified.status).toBe(200);
    const fresh = client(server.url, verified.body.access_token);
    expect((await fresh.get("/v1/auth/me")).body).toMatchObject({ auth_method: "password", totp_enabled: true });
    const members = await fresh.get("/v1/org/members");
    expect(members.status).toBe(200);
    expect(members.body.members).toEqual([expect.objectContaining({ id: acct.userId, auth_method: "password", totp_enabled: true })]);
  });

  it("sign-up then verify-email: the card's flow reads access_token and token_type from verify-email", async () => {
    const email = uniqueEmail("card");
    const signup = await client(server.url).post("/v1/auth/signup", { email, password: "correct horse battery" });
    expect(signup.status).toBe(201);
    // Issue 15 L6: sign-up answers the same for any address and signs nobody in.
    expect(signup.body.access_token).toBeUndefined();
    const verified = await client(server.url).post("/v1/auth/verify-email", { token: outboxTokenFor(server, email) });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ access_token: expect.any(String), token_type: "Bearer" });
  });

  it("policies carry created_by_type", async () => {
    const owner = client(server.url, human.token);
    const vault = await owner.post("/v1/vaults", { name: `v-${randomUUID().slice(0, 8)}` });
    const agent = await registerAgent(server.url, human.token);
    const created = await owner.post(`/v1/vaults/${vault.body.id}/policies`, { principal_type: "agent", principal_id: agent.id, secret_path_pattern: "**", permissions: ["read"] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ created_by: `user:${human.userId}`, created_by_type: "user" });
    const list = await owner.get(`/v1/vaults/${vault.body.id}/policies`);
    expect(list.body.policies[0]).toMatchObject({ created_by_type: "user" });
  });

  it("GET /v1/chains (public) carries ws_url, created_at and updated_at", async () => {
    const res = await client(server.url).get("/v1/chains");
    expect(res.status).toBe(200);
    for (const c of res.body.chains) {
      expect(c).toMatchObject({ ws_url: null, created_at: expect.any(String), updated_at: expect.any(String) });
      expect(Number.isNaN(Date.parse(c.created_at))).toBe(false);
    }
    expect((await client(server.url).get("/v1/chains/base")).body).toMatchObject({ ws_url: null, updated_at: expect.any(String) });
  });
});

describe("billing: the 1Claw SDK's shapes beside Talon's", () => {
  it("usage, subscription and credit balance past the quota: paid requests, their cost and the balance in dollars", async () => {
    const acct = await signUpVerified(server, { tier: "free" });
    const api = client(server.url, acct.token);
    // At the free quota with 10.5 requests' worth of credit (100 millicents each): 10 paid requests.
    await server.rt.db.usagePeriod.create({ data: { orgId: acct.orgId, period: periodOf(Date.now()), requests: 1000 } });
    await server.rt.db.org.update({ where: { id: acct.orgId }, data: { creditBalance: 1050n } });
    const results = [];
    for (let i = 0; i < 12; i++) results.push((await api.get("/v1/vaults")).status);
    expect(results.filter((s) => s === 200)).toHaveLength(10);
    await meterFor(server.rt).releaseAll();

    const usage = await api.get("/v1/billing/usage");
    expect(usage.status).toBe(200);
    expect(usage.body).toMatchObject({
      billing_tier: "free",
      free_tier_limit: 1000,
      current_month: { total_requests: 1010, paid_requests: 10, free_requests: 1000, total_cost_usd: "0.01" },
      // Talon's own fields stay.
      tier: "free",
      requests_used: 1000,
      overage_requests: 10,
    });

    const sub = await api.get("/v1/billing/subscription");
    expect(sub.body).toMatchObject({ interval: "month", credit_balance_cents: 0.05, credit_balance_usd: "0.0005" });
    expect(sub.body.usage).toMatchObject({ team_members: { used: 1, limit: null }, proxy_transactions: { used: 0, limit: null }, shares: { used: 0, limit: null } });

    const balance = await api.get("/v1/billing/credits/balance");
    expect(balance.body).toMatchObject({ balance_cents: 0.05, balance_usd: "0.0005", expiring_within_90_days: "0.00" });
  });

  it("credits/balance: expiring_within_90_days counts grants due within 90 days, at most the balance", async () => {
    const acct = await signUpVerified(server);
    const day = 24 * 3600 * 1000;
    await server.rt.db.org.update({ where: { id: acct.orgId }, data: { creditBalance: 1_500_000n } }); // $15
    const grant = (amount: bigint, expiresInDays: number) =>
      server.rt.db.creditTransaction.create({ data: { id: randomUUID(), orgId: acct.orgId, amount, kind: "grant", description: "test", expiresAt: new Date(Date.now() + expiresInDays * day) } });
    await grant(500_000n, 30); // $5, due soon
    await grant(1_000_000n, 200); // $10, not yet
    const api = client(server.url, acct.token);
    expect((await api.get("/v1/billing/credits/balance")).body).toMatchObject({ balance_usd: "15.00", expiring_within_90_days: "5.00" });
    await grant(2_000_000n, 60); // $20 more due soon, but only $15 is left to expire
    expect((await api.get("/v1/billing/credits/balance")).body.expiring_within_90_days).toBe("15.00");
  });

  it("credit transactions page with page and limit, and say which page they are", async () => {
    const acct = await signUpVerified(server);
    for (let i = 0; i < 5; i++) {
      await server.rt.db.creditTransaction.create({ data: { id: randomUUID(), orgId: acct.orgId, amount: 1000n, kind: "grant", description: `g${i}`, createdAt: new Date(Date.now() - i * 1000) } });
    }
    const api = client(server.url, acct.token);
    const first = await api.get("/v1/billing/credits/transactions?page=1&limit=2");
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ page: 1, limit: 2 });
    expect(first.body.transactions.map((t: { description: string }) => t.description)).toEqual(["g0", "g1"]);
    const third = await api.get("/v1/billing/credits/transactions?page=3&limit=2");
    expect(third.body.transactions.map((t: { description: string }) => t.description)).toEqual(["g4"]);
    expect((await api.get("/v1/billing/credits/transactions")).body).toMatchObject({ page: 1, limit: 100 });
    expect((await api.get("/v1/billing/credits/transactions?page=0")).status).toBe(400);
    expect((await api.get("/v1/billing/credits/transactions?limit=201")).status).toBe(400);
  });

  it("PATCH /v1/billing/overage-method takes { overage_method } or { method }, exactly one", async () => {
    const acct = await signUpVerified(server);
    const api = client(server.url, acct.token);
    expect((await api.patch("/v1/billing/overage-method", { overage_method: "credits" })).body).toEqual({ overage_method: "credits" });
    expect((await api.patch("/v1/billing/overage-method", { method: "credits" })).status).toBe(200);
    const both = await api.patch("/v1/billing/overage-method", { method: "credits", overage_method: "credits" });
    expect(both.status).toBe(400);
    expect(both.text).toContain("overage_method");
    expect((await api.patch("/v1/billing/overage-method", {})).status).toBe(400);
    const x402 = await api.patch("/v1/billing/overage-method", { overage_method: "x402" });
    expect(x402.status).toBe(400);
    expect(x402.text).toContain("overage_method");
    expect((await api.get("/v1/billing/subscription")).body.overage_method).toBe("credits");
  });
});

describe("a wrong verb on an existing route", () => {
  it("answers 405 with Allow; an unknown path stays 404", async () => {
    const api = client(server.url, human.token);
    const chains = await client(server.url).call("DELETE", "/v1/chains");
    expect(chains.status).toBe(405);
    expect(chains.headers.get("allow")).toBe("GET, HEAD");
    expect(chains.headers.get("content-type")).toContain("application/problem+json");
    expect(chains.body).toMatchObject({ status: 405, title: "Method Not Allowed" });

    const vaults = await api.put("/v1/vaults", { name: "x" });
    expect(vaults.status).toBe(405);
    expect(vaults.headers.get("allow")).toBe("GET, POST, HEAD");

    const vault = await api.post("/v1/vaults", { name: `v-${randomUUID().slice(0, 8)}` });
    const secret = await api.patch(`/v1/vaults/${vault.body.id}/secrets/a/b`, { value: "x" });
    expect(secret.status).toBe(405);
    expect(secret.headers.get("allow")?.split(", ").sort()).toEqual(["DELETE", "GET", "HEAD", "PUT"]);

    // Positive controls: the right verbs work, and a path no route has is a 404.
    expect((await api.get("/v1/vaults")).status).toBe(200);
    const unknown = await api.get("/v1/no-such-thing");
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("allow")).toBeNull();
  });
});
