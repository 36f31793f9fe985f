import { Context } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { meterFor } from "../../server/billing/metering";
import { ApiError } from "../../server/http/errors";
import type { ApiEnv } from "../../server/http/env";
import { IP_NOT_ALLOWED, guardAuthenticatedRequest } from "../../server/http/ip-rules";
import type { UserPrincipal } from "../../server/http/principals";
import { recordActivity } from "../../server/identity/activity";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * The checks every authenticated request runs after its credential — the per-principal budget, the
 * org's IP rules, the quota meter, the agent's activity mark — answer from memory at once when they
 * can: no promise, no turn of the event loop (issue 10: ≈ 85 promises a secret read before, ≈ 62
 * after). These tests hold that shape (a value, or a synchronous throw) and that the slow path (rules
 * not yet loaded, a quota block not yet reserved) still answers the same, through a promise.
 */
const BUDGET = 30;

describe("the authenticated request's checks answer at once from memory", () => {
  let server: TestServer;
  let owner: Awaited<ReturnType<typeof signUpVerified>>;

  beforeAll(async () => {
    server = await startTestServer({ env: { TALON_RATE_LIMIT_PRINCIPAL_PER_MINUTE: String(BUDGET) } });
    owner = await signUpVerified(server);
  });
  afterAll(async () => {
    await server?.close();
  });

  const principalOf = (who: { userId: string; orgId: string }): UserPrincipal => ({
    kind: "user",
    userId: who.userId,
    orgId: who.orgId,
    role: "owner",
    via: "jwt",
    credentialId: "test",
  });

  function contextFor(principal: UserPrincipal, ip: string): Context<ApiEnv> {
    const c = new Context<ApiEnv>(new Request("http://talon.test/v1/vaults"));
    c.set("rt", server.rt);
    c.set("principal", principal);
    c.set("ip", ip);
    return c;
  }

  it("the principal's budget and the IP rules: undefined (no promise) within the budget, a 429 thrown at once past it", async () => {
    // The sign-up's own requests loaded the org's rules and spent part of the budget.
    const principal = principalOf(owner);
    let thrown: unknown;
    let answered = 0;
    for (let i = 0; i < BUDGET + 1 && thrown === undefined; i++) {
      try {
        expect(guardAuthenticatedRequest(contextFor(principal, "192.0.2.10"))).toBeUndefined();
        answered++;
      } catch (e) {
        thrown = e;
      }
    }
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThan(BUDGET);
    expect(thrown).toBeInstanceOf(ApiError);
    expect((thrown as ApiError).status).toBe(429);
  });

  it("an address the org's rules deny: a rejected promise while the rules load, then a 403 thrown at once", async () => {
    const other = await signUpVerified(server);
    const api = client(server.url, other.token);
    // The new rule empties the cached rules: the next check loads them.
    expect((await api.post("/v1/security/ip-rules", { rule_type: "deny", cidr: "198.51.100.0/24" })).status).toBe(201);
    const principal = principalOf(other);
    const loading = guardAuthenticatedRequest(contextFor(principal, "198.51.100.7"));
    expect(loading).toBeInstanceOf(Promise);
    await expect(loading).rejects.toMatchObject({ status: 403, message: IP_NOT_ALLOWED });
    expect(() => guardAuthenticatedRequest(contextFor(principal, "198.51.100.8"))).toThrow(IP_NOT_ALLOWED);
    expect(guardAuthenticatedRequest(contextFor(principal, "192.0.2.20"))).toBeUndefined();
  });

  it("the meter: nothing to draw at once before a block is reserved; then each request counted from it at once, as draw counts", async () => {
    const org = (await signUpVerified(server)).orgId;
    const meter = meterFor(server.rt);
    expect(meter.drawReserved(org)).toBeNull();
    const drawn = await meter.draw(org);
    const next = meter.drawReserved(org);
    expect(next).not.toBeNull();
    expect(next).not.toBeInstanceOf(Promise);
    expect(next!.used).toBe(drawn.used + 1);
    expect(meter.drawReserved(org)!.used).toBe(drawn.used + 2);
  });

  it("an agent's activity: a write's promise when one is due, undefined (no promise) within the minute", async () => {
    const api = client(server.url, (await signUpVerified(server)).token);
    const agent = await api.post("/v1/agents", { name: "activity-probe" });
    expect(agent.status).toBe(201);
    const id = String(agent.body.agent.id);
    const due = recordActivity(server.rt.db, "agent", id, null);
    expect(due).toBeInstanceOf(Promise);
    await due;
    expect(recordActivity(server.rt.db, "agent", id, null)).toBeUndefined();
    expect(recordActivity(server.rt.db, "agent", id, Date.now() - 5_000)).toBeUndefined();
  });
});
