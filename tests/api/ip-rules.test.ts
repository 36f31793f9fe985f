import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readOutbox, signUpVerified, uniqueEmail } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * IP rules CRUD and validation, who may manage them, and enforcement on a server with no trusted
 * proxy (X-Forwarded-For ignored). The test server listens on 127.0.0.1, so every rule that must not
 * lock the caller out uses a network the test client is not in.
 */
let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let ownerApi: ReturnType<typeof client>;
let memberApi: ReturnType<typeof client>;
let outsiderApi: ReturnType<typeof client>;
let agentApi: ReturnType<typeof client>;
const MISSING = "00000000-0000-4000-8000-000000000000";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  // A 1-second cache: a rule deleted behind the server's back (as another instance would) is seen quickly.
  server = await startTestServer({ env: { TALON_IP_RULES_CACHE_SECONDS: "1", TALON_RATE_LIMIT_AUTH_PER_MINUTE: "0" } });
  owner = await signUpVerified(server);
  ownerApi = client(server.url, owner.token);
  outsiderApi = client(server.url, (await signUpVerified(server)).token);
  const email = uniqueEmail("member");
  expect((await ownerApi.post("/v1/org/invitations", { email, role: "member" })).status).toBe(201);
  const token = /invite#token=([A-Za-z0-9_-]+)/.exec(readOutbox(server).filter((m) => m.to.includes(email)).at(-1)!.text)![1]!;
  const accepted = await client(server.url).post("/v1/org/invitations/accept", { token, password: `pw-${randomUUID()}` });
  memberApi = client(server.url, accepted.body.access_token);
  const agent = await ownerApi.post("/v1/agents", { name: "ip-rule-probe" });
  expect(agent.status, agent.text).toBe(201);
  agentApi = client(server.url, agent.body.api_key);
});
afterAll(async () => {
  await server?.close();
});

describe("managing IP rules", () => {
  it("creates, lists and deletes IPv4 and IPv6 rules", async () => {
    expect((await ownerApi.get("/v1/security/ip-rules")).body).toEqual({ rules: [] });
    const v4 = await ownerApi.post("/v1/security/ip-rules", { rule_type: "deny", cidr: "203.0.113.0/24", label: "scanner" });
    expect(v4.status).toBe(201);
    expect(v4.body).toEqual({ id: expect.any(String), rule_type: "deny", cidr: "203.0.113.0/24", label: "scanner", created_at: expect.any(String) });
    const v6 = await ownerApi.post("/v1/security/ip-rules", { rule_type: "deny", cidr: " 2001:DB8::/32 " });
    expect(v6.status).toBe(201);
    expect(v6.body).toMatchObject({ rule_type: "deny", cidr: "2001:DB8::/32", label: null });
    const host = await ownerApi.post("/v1/security/ip-rules", { rule_type: "deny", cidr: "198.51.100.7" });
    expect(host.status).toBe(201);

    const list = await ownerApi.get("/v1/security/ip-rules");
    expect(list.body.rules.map((r: { id: string }) => r.id)).toEqual([v4.body.id, v6.body.id, host.body.id]);
    for (const r of [v4, v6, host]) expect((await ownerApi.delete(`/v1/security/ip-rules/${r.body.id}`)).status).toBe(204);
    expect((await ownerApi.delete(`/v1/security/ip-rules/${v4.body.id}`)).status).toBe(404);
    expect((await ownerApi.get("/v1/security/ip-rules")).body.rules).toEqual([]);

    const events = await server.rt.db.auditEvent.findMany({ where: { orgId: owner.orgId, action: { startsWith: "ip_rule." } } });
    expect(events.filter((e) => e.action === "ip_rule.create")).toHaveLength(3);
    expect(events.filter((e) => e.action === "ip_rule.delete")).toHaveLength(3);
    expect(events.every((e) => e.actorId === `user:${owner.userId}`)).toBe(true);
  });

  it.each([
    [{ rule_type: "deny", cidr: "10.0.0.0/33" }, "cidr"],
    [{ rule_type: "deny", cidr: "::/129" }, "cidr"],
    [{ rule_type: "deny", cidr: "2001:db8:::/48" }, "cidr"],
    [{ rule_type: "deny", cidr: "10.0.0.256/32" }, "cidr"],
    [{ rule_type: "deny", cidr: "example.com" }, "cidr"],
    [{ rule_type: "block", cidr: "10.0.0.0/8" }, "rule_type"],
    [{ rule_type: "deny", cidr: "10.0.0.0/8", label: "x".repeat(256) }, "label"],
    [{ rule_type: "deny", cidr: "10.0.0.0/8", priority: 1 }, "priority"],
    [{ cidr: "10.0.0.0/8" }, "rule_type"],
  ])("rejects %j naming %s", async (body, field) => {
    const res = await ownerApi.post("/v1/security/ip-rules", body);
    expect(res.status).toBe(400);
    expect(res.body.fields.map((f: { field: string }) => f.field)).toContain(field);
  });

  it("only owners and admins manage rules: members and agents get 403, another org's rule is 404", async () => {
    expect((await memberApi.get("/v1/security/ip-rules")).status).toBe(403);
    expect((await memberApi.post("/v1/security/ip-rules", { rule_type: "deny", cidr: "203.0.113.0/24" })).status).toBe(403);
    expect((await agentApi.get("/v1/agents/me")).status).toBe(200);
    expect((await agentApi.get("/v1/security/ip-rules")).status).toBe(403);
    expect((await agentApi.post("/v1/security/ip-rules", { rule_type: "allow", cidr: "0.0.0.0/0" })).status).toBe(403);

    const rule = await ownerApi.post("/v1/security/ip-rules", { rule_type: "deny", cidr: "203.0.113.0/24" });
    expect((await memberApi.delete(`/v1/security/ip-rules/${rule.body.id}`)).status).toBe(403);
    const foreign = await outsiderApi.delete(`/v1/security/ip-rules/${rule.body.id}`);
    const missing = await outsiderApi.delete(`/v1/security/ip-rules/${MISSING}`);
    expect([foreign.status, missing.status]).toEqual([404, 404]);
    expect(foreign.body.detail).toBe(missing.body.detail);
    expect((await outsiderApi.get("/v1/security/ip-rules")).body.rules).toEqual([]);
    expect((await ownerApi.delete(`/v1/security/ip-rules/${rule.body.id}`)).status).toBe(204);
  });

  it("refuses a rule that would lock the caller out unless ?force=true", async () => {
    for (const body of [{ rule_type: "allow", cidr: "10.0.0.0/8" }, { rule_type: "deny", cidr: "127.0.0.0/8" }]) {
      const res = await ownerApi.post("/v1/security/ip-rules", body);
      expect(res.status).toBe(400);
      expect(res.body.detail).toMatch(/lock you out.*force=true/);
    }
    expect((await ownerApi.get("/v1/security/ip-rules")).body.rules).toEqual([]);
  });
});

describe("enforcement without a trusted proxy", () => {
  it("a deny rule for 127.0.0.0/8 blocks the org's users and agents at once; X-Forwarded-For cannot get around it; other orgs are unaffected", async () => {
    const control = await ownerApi.post("/v1/security/ip-rules", { rule_type: "deny", cidr: "10.0.0.0/8" });
    expect((await ownerApi.get("/v1/auth/me")).status).toBe(200);
    expect((await agentApi.get("/v1/agents/me")).status).toBe(200);

    const deny = await ownerApi.post("/v1/security/ip-rules?force=true", { rule_type: "deny", cidr: "127.0.0.0/8" });
    expect(deny.status).toBe(201);
    const blocked = await ownerApi.get("/v1/auth/me");
    expect(blocked.status).toBe(403);
    expect(blocked.body.detail).toBe("Your IP address is not allowed by this organisation's IP rules");
    expect((await ownerApi.get("/v1/auth/me", { "X-Forwarded-For": "192.0.2.1" })).status).toBe(403);
    expect((await memberApi.get("/v1/org/members")).status).toBe(403);
    expect((await agentApi.get("/v1/agents/me")).status).toBe(403);
    expect((await ownerApi.delete(`/v1/security/ip-rules/${deny.body.id}`)).status).toBe(403);
    expect((await outsiderApi.get("/v1/auth/me")).status).toBe(200);
    expect((await client(server.url).get("/v1/health")).status).toBe(200);
    const forced = await server.rt.db.auditEvent.findFirst({ where: { orgId: owner.orgId, action: "ip_rule.create", resourceId: deny.body.id } });
    expect(JSON.parse(forced!.details)).toEqual({ rule_type: "deny", cidr: "127.0.0.0/8", forced: true });

    // The way back for a locked-out org is the database (an operator, or another instance): within
    // the cache lifetime (1 s here) every instance sees it.
    await server.rt.db.ipRule.delete({ where: { id: deny.body.id } });
    let status = 0;
    for (let i = 0; i < 30 && status !== 200; i++) {
      await sleep(100);
      status = (await ownerApi.get("/v1/auth/me")).status;
    }
    expect(status).toBe(200);
    expect((await ownerApi.delete(`/v1/security/ip-rules/${control.body.id}`)).status).toBe(204);
  });

  it("an allow rule for 10.0.0.0/8 alone shuts 127.0.0.1 out; adding 127.0.0.1/32 lets it back in", async () => {
    const wide = await ownerApi.post("/v1/security/ip-rules", { rule_type: "allow", cidr: "127.0.0.1/32" });
    expect(wide.status).toBe(201);
    const ten = await ownerApi.post("/v1/security/ip-rules", { rule_type: "allow", cidr: "10.0.0.0/8" });
    expect(ten.status).toBe(201);
    expect((await ownerApi.get("/v1/auth/me")).status).toBe(200);
    const lockout = await ownerApi.delete(`/v1/security/ip-rules/${wide.body.id}`);
    expect(lockout.status).toBe(400);
    expect((await ownerApi.delete(`/v1/security/ip-rules/${wide.body.id}?force=true`)).status).toBe(204);
    expect((await ownerApi.get("/v1/auth/me")).status).toBe(403);
    expect((await agentApi.get("/v1/agents/me")).status).toBe(403);

    await server.rt.db.ipRule.create({ data: { id: randomUUID(), orgId: owner.orgId, ruleType: "allow", cidr: "127.0.0.1/32", createdBy: owner.userId } });
    let status = 0;
    for (let i = 0; i < 30 && status !== 200; i++) {
      await sleep(100);
      status = (await ownerApi.get("/v1/auth/me")).status;
    }
    expect(status).toBe(200);
    expect((await agentApi.get("/v1/agents/me")).status).toBe(200);
    await server.rt.db.ipRule.deleteMany({ where: { orgId: owner.orgId } });
  });
});
