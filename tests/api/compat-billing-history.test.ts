import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, grant, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Issue 16: GET /v1/billing/history answers the card's per-request events `{ id, principal_type,
 * principal_id, method, endpoint, status_code, price_usd, is_paid, created_at }`, recorded by the
 * metering step with TALON_BILLING=on; endpoint is the route template, never the raw path.
 */
const CANARY_PATH = "canary-path/never-in-history";

describe("per-request billing history (billing on)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...NO_RATE_LIMITS, TALON_BILLING: "on" } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("lists each metered request with the route template, its status and who made it; free routes are not listed", async () => {
    const owner = await signUpVerified(server, { tier: "pro" });
    const api = client(server.url, owner.token);
    const vault = (await api.post("/v1/vaults", { name: "billed" })).body.id as string;
    expect((await api.put(`/v1/vaults/${vault}/secrets/${CANARY_PATH}`, { value: "v" })).status).toBe(201);
    expect((await api.get(`/v1/vaults/${vault}/secrets/${CANARY_PATH}`)).status).toBe(200);
    expect((await api.get(`/v1/vaults/${vault}/secrets/canary-path/missing`)).status).toBe(404);
    const agent = await addAgent(server, owner.token);
    await grant(api, vault, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "canary-path/**", permissions: ["read"] });
    expect((await agent.api.get(`/v1/vaults/${vault}/secrets/${CANARY_PATH}`)).status).toBe(200);
    expect((await api.get("/v1/auth/me")).status).toBe(200);

    const history = await api.get("/v1/billing/history?limit=100");
    expect(history.status).toBe(200);
    const events = history.body.events as Record<string, unknown>[];
    for (const e of events) {
      expect(Object.keys(e).sort()).toEqual(["created_at", "endpoint", "id", "is_paid", "method", "price_usd", "principal_id", "principal_type", "status_code"]);
      expect(e).toMatchObject({ price_usd: "0.00", is_paid: false });
    }
    const secretRoute = "/v1/vaults/:id/secrets/:path{.+}";
    const reads = events.filter((e) => e.endpoint === secretRoute && e.method === "GET");
    expect(reads.map((e) => [e.principal_type, e.status_code]).sort()).toEqual([["agent", 200], ["user", 200], ["user", 404]].sort());
    expect(reads.find((e) => e.principal_type === "agent")!.principal_id).toBe(agent.agentId);
    expect(reads.find((e) => e.principal_type === "user")!.principal_id).toBe(owner.userId);
    expect(events.some((e) => e.endpoint === secretRoute && e.method === "PUT" && e.status_code === 201)).toBe(true);
    expect(events.some((e) => e.method === "POST" && e.endpoint === "/v1/vaults" && e.status_code === 201)).toBe(true);
    // Free routes (auth, billing) are not metered, so not listed; raw paths never appear.
    expect(events.some((e) => String(e.endpoint).startsWith("/v1/auth/") || String(e.endpoint).startsWith("/v1/billing/"))).toBe(false);
    expect(history.text).not.toContain("canary-path");
    expect(history.text).not.toContain(vault);
    // Newest first, and limit applies.
    const times = events.map((e) => Date.parse(String(e.created_at)));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect((await api.get("/v1/billing/history?limit=2")).body.events).toHaveLength(2);

    // Another org sees none of these.
    const other = await signUpVerified(server, { tier: "pro" });
    const theirs = await client(server.url, other.token).get("/v1/billing/history");
    expect(theirs.body.events).toEqual([]);
  });
});

describe("billing off", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...NO_RATE_LIMITS, TALON_BILLING: "off" } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("records no per-request events; the ledger still counts the day's requests", async () => {
    const owner = await signUpVerified(server);
    const api = client(server.url, owner.token);
    expect((await api.post("/v1/vaults", { name: "unbilled" })).status).toBe(201);
    const history = await api.get("/v1/billing/history");
    expect(history.status).toBe(200);
    expect(history.body.events).toEqual([]);
    expect(await server.rt.db.usageEvent.count()).toBe(0);
    expect(history.body.ledger.some((e: { type: string; requests: number }) => e.type === "usage" && e.requests >= 1)).toBe(true);
  });
});
