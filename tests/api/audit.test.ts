import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, addOrgUser } from "../helpers/policies";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";

let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let api: ReturnType<typeof client>;
let vaultId: string;

beforeAll(async () => {
  server = await startTestServer();
  owner = await signUpVerified(server);
  await server.rt.db.org.update({ where: { id: owner.orgId }, data: { tier: "enterprise" } });
  api = client(server.url, owner.token);
  vaultId = (await api.post("/v1/vaults", { name: "audited" })).body.id;
  for (let i = 0; i < 3; i++) expect((await api.put(`/v1/vaults/${vaultId}/secrets/k${i}`, { value: `v${i}` })).status).toBe(201);
  expect((await api.get(`/v1/vaults/${vaultId}/secrets/k0`)).status).toBe(200);
});
afterAll(async () => {
  await server?.close();
});

/** Raw SQL with `?` placeholders on either database (PostgreSQL numbers them). */
function raw(sql: string, ...params: unknown[]) {
  let n = 0;
  return server.rt.db.$executeRawUnsafe(testDialect === "postgres" ? sql.replace(/\?/g, () => `$${++n}`) : sql, ...params);
}

describe("GET /v1/audit/events", () => {
  it("lists the org's events newest first with the contract's fields and the total count", async () => {
    const res = await api.get("/v1/audit/events");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.body.count).toBeGreaterThanOrEqual(7);
    const read = res.body.events.find((e: { action: string }) => e.action === "secret.read");
    expect(read).toMatchObject({ actor_id: owner.userId, actor_type: "user", resource_type: "secret", org_id: owner.orgId, ip_address: "127.0.0.1" });
    expect(read.details).toMatchObject({ vault_id: vaultId, path: "k0", version: 1 });
    const times = res.body.events.map((e: { created_at: string }) => Date.parse(e.created_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it("filters by action, resource_id and actor_id, and pages with limit/offset while count stays the total", async () => {
    const writes = await api.get("/v1/audit/events?action=secret.write");
    expect(writes.status).toBe(200);
    expect(writes.body.count).toBe(3);
    expect(writes.body.events.every((e: { action: string }) => e.action === "secret.write")).toBe(true);

    const page = await api.get("/v1/audit/events?action=secret.write&limit=2&offset=2");
    expect(page.body.events).toHaveLength(1);
    expect(page.body.count).toBe(3);

    const one = writes.body.events[0];
    const byResource = await api.get(`/v1/audit/events?resource_id=${one.resource_id}`);
    expect(byResource.body.events.every((e: { resource_id: string }) => e.resource_id === one.resource_id)).toBe(true);

    const byActor = await api.get(`/v1/audit/events?actor_id=${owner.userId}&action=vault.create`);
    expect(byActor.body.count).toBe(1);
    expect((await api.get(`/v1/audit/events?actor_id=user:${owner.userId}&action=vault.create`)).body.count).toBe(1);
  });

  it("filters by time window", async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await api.get(`/v1/audit/events?from=${encodeURIComponent(future)}`)).body.count).toBe(0);
    const all = await api.get(`/v1/audit/events?to=${encodeURIComponent(future)}&limit=1000`);
    expect(all.body.count).toBe((await api.get("/v1/audit/events")).body.count);
  });

  it("rejects a limit over 1000 and unknown parameters with 400 naming them", async () => {
    const big = await api.get("/v1/audit/events?limit=1001");
    expect(big.status).toBe(400);
    expect(big.body.fields[0].field).toBe("limit");
    expect((await api.get("/v1/audit/events?foo=1")).status).toBe(400);
    expect((await client(server.url).get("/v1/audit/events")).status).toBe(401);
  });

  it("shows members and agents only their own events; another org sees none of ours", async () => {
    const member = await addOrgUser(server, owner.orgId, "member");
    const mine = await member.api.get("/v1/audit/events");
    expect(mine.status).toBe(200);
    expect(mine.body.count).toBe(0);

    const agent = await addAgent(server, owner.token);
    expect((await agent.api.post("/v1/vaults", { name: "agent-own" })).status).toBe(201);
    const agentView = await agent.api.get("/v1/audit/events");
    expect(agentView.status).toBe(200);
    expect(agentView.body.events.length).toBeGreaterThan(0);
    expect(agentView.body.events.every((e: { actor_id: string; actor_type: string }) => e.actor_id === agent.agentId && e.actor_type === "agent")).toBe(true);
    // Positive control: the owner sees the agent's events.
    expect((await api.get(`/v1/audit/events?actor_id=${agent.agentId}`)).body.count).toBe(agentView.body.count);

    const stranger = client(server.url, (await signUpVerified(server)).token);
    const theirs = await stranger.get(`/v1/audit/events?limit=1000`);
    expect(theirs.body.events.every((e: { org_id: string }) => e.org_id !== owner.orgId)).toBe(true);
  });
});

describe("GET /v1/audit/verify", () => {
  it("reports an intact chain with gapless per-org sequence numbers", async () => {
    const res = await api.get("/v1/audit/verify");
    expect(res.status).toBe(200);
    const rows = await server.rt.db.auditEvent.findMany({ where: { orgId: owner.orgId }, orderBy: { seq: "asc" } });
    expect(res.body).toEqual({
      chain_valid: true,
      events_checked: rows.length,
      broken_at_event_id: null,
      complete: true,
      verified_through_seq: rows.length,
      head_seq: rows.length,
      mode: "incremental",
      checkpoint: "none",
      detail: null,
    });
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    expect(rows[0]!.prevHash).toBe("0".repeat(64));
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash);
  });

  // These rows lie before the checkpoint the first verification signed: a full verification finds them
  // (an incremental one does not re-read them; tests/security/audit-verify-bounded.test.ts covers both).
  it("finds an edited row with full=true, and the chain is valid again once the row is restored", async () => {
    const rows = await server.rt.db.auditEvent.findMany({ where: { orgId: owner.orgId }, orderBy: { seq: "asc" } });
    const victim = rows[2]!;
    await raw(`UPDATE "AuditEvent" SET details = ? WHERE id = ?`, '{"path":"innocent"}', victim.id);
    const res = await api.get("/v1/audit/verify?full=true");
    expect(res.body).toMatchObject({ chain_valid: false, events_checked: 3, broken_at_event_id: victim.id, mode: "full", checkpoint: "valid" });
    await raw(`UPDATE "AuditEvent" SET details = ? WHERE id = ?`, victim.details, victim.id);
    expect((await api.get("/v1/audit/verify?full=true")).body.chain_valid).toBe(true);
  });

  it("finds a deleted row with full=true: the event after the gap is reported", async () => {
    const rows = await server.rt.db.auditEvent.findMany({ where: { orgId: owner.orgId }, orderBy: { seq: "asc" } });
    await raw(`DELETE FROM "AuditEvent" WHERE id = ?`, rows[4]!.id);
    const res = await api.get("/v1/audit/verify?full=true");
    expect(res.body).toMatchObject({ chain_valid: false, events_checked: 5, broken_at_event_id: rows[5]!.id });
  });

  it("finds a row inserted outside the chain", async () => {
    const other = await signUpVerified(server);
    const otherApi = client(server.url, other.token);
    expect((await otherApi.get("/v1/audit/verify")).body.chain_valid).toBe(true);
    await server.rt.db.auditEvent.create({
      data: { id: crypto.randomUUID(), orgId: other.orgId, action: "secret.read", actorId: "user:x", actorType: "user", resourceType: "secret", resourceId: "x" },
    });
    const res = await otherApi.get("/v1/audit/verify");
    expect(res.body.chain_valid).toBe(false);
  });
});
