import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventHash } from "../../server/audit/chain";
import { claimVerifyLease, VERIFY_LEASE_MS } from "../../server/audit/checkpoint";
import { meterFor } from "../../server/billing/metering";
import { periodOf } from "../../server/billing/tiers";
import { signUpVerified } from "../helpers/accounts";
import { startTwinServers, type TwinServers } from "../helpers/agents";
import { client } from "../helpers/http";
import { addAgent, addOrgUser } from "../helpers/policies";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";

/**
 * GET /v1/audit/verify cannot be used to load the instance: only org owners and admins may call it
 * (full verification: owners), it is metered, at most one runs per org at a time (across instances),
 * and it verifies incrementally from a signed checkpoint, at most `limit` events per call. What an
 * incremental run does not re-read (before the checkpoint) a full run catches; a checkpoint whose
 * signature fails is ignored and reported.
 */
let server: TestServer;
let twins: TwinServers;

beforeAll(async () => {
  [server, twins] = await Promise.all([startTestServer({ env: { TALON_BILLING: "on" } }), startTwinServers()]);
});
afterAll(async () => {
  await Promise.all([server?.close(), twins?.close()]);
});

/** Raw SQL with `?` placeholders on either database (PostgreSQL numbers them). */
function raw(s: TestServer, sql: string, ...params: unknown[]) {
  let n = 0;
  return s.rt.db.$executeRawUnsafe(testDialect === "postgres" ? sql.replace(/\?/g, () => `$${++n}`) : sql, ...params);
}

/** A fresh org whose chain holds at least `events` events. */
async function orgWithEvents(s: TestServer, events: number) {
  const owner = await signUpVerified(s);
  const api = client(s.url, owner.token);
  const vaultId = (await api.post("/v1/vaults", { name: `v-${Math.random().toString(36).slice(2, 8)}` })).body.id as string;
  const have = await s.rt.db.auditEvent.count({ where: { orgId: owner.orgId } });
  for (let i = have; i < events; i++) expect((await api.put(`/v1/vaults/${vaultId}/secrets/k${i}`, { value: `v${i}` })).status).toBe(201);
  return { owner, api, vaultId };
}

const chainRows = (s: TestServer, orgId: string) => s.rt.db.auditEvent.findMany({ where: { orgId }, orderBy: { seq: "asc" } });

describe("who may verify", () => {
  it("members and agents get 403; admins and owners verify (positive controls); full=true is for owners only", async () => {
    const { owner, api } = await orgWithEvents(server, 3);
    const member = await addOrgUser(server, owner.orgId, "member");
    const admin = await addOrgUser(server, owner.orgId, "admin");
    const agent = await addAgent(server, owner.token);

    for (const caller of [member.api, agent.api]) {
      const res = await caller.get("/v1/audit/verify");
      expect(res.status).toBe(403);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect((await caller.get("/v1/audit/verify?full=true")).status).toBe(403);
    }
    expect((await admin.api.get("/v1/audit/verify")).status).toBe(200);
    const adminFull = await admin.api.get("/v1/audit/verify?full=true");
    expect(adminFull.status).toBe(403);
    expect(adminFull.body.detail).toMatch(/owners/);
    const ownerFull = await api.get("/v1/audit/verify?full=true");
    expect(ownerFull.status).toBe(200);
    expect(ownerFull.body).toMatchObject({ chain_valid: true, mode: "full", complete: true });
    expect((await client(server.url).get("/v1/audit/verify")).status).toBe(401);
  });

  it("refuses a limit outside 1..10000 and unknown parameters with 400 naming them", async () => {
    const { api } = await orgWithEvents(server, 1);
    for (const q of ["limit=0", "limit=10001", "limit=x", "full=yes", "foo=1"]) {
      const res = await api.get(`/v1/audit/verify?${q}`);
      expect(res.status, q).toBe(400);
    }
    expect((await api.get("/v1/audit/verify?limit=10000")).status).toBe(200);
  });
});

describe("incremental verification from a signed checkpoint", () => {
  it("first call verifies everything and signs a checkpoint; the next verifies only what was appended since", async () => {
    const { owner, api, vaultId } = await orgWithEvents(server, 6);
    const head = (await chainRows(server, owner.orgId)).length;
    const first = await api.get("/v1/audit/verify");
    expect(first.body).toEqual({
      chain_valid: true,
      events_checked: head,
      broken_at_event_id: null,
      complete: true,
      verified_through_seq: head,
      head_seq: head,
      mode: "incremental",
      checkpoint: "none",
      detail: null,
    });
    const cp = await server.rt.db.auditCheckpoint.findUnique({ where: { orgId: owner.orgId } });
    const jwk = await server.rt.keystore.signingJwk();
    expect(cp).toMatchObject({ seq: head, keyId: jwk.kid });
    expect(cp!.hash).toBe((await chainRows(server, owner.orgId)).at(-1)!.hash);

    for (let i = 0; i < 3; i++) expect((await api.put(`/v1/vaults/${vaultId}/secrets/more${i}`, { value: "x" })).status).toBe(201);
    const second = await api.get("/v1/audit/verify");
    expect(second.body).toMatchObject({ chain_valid: true, events_checked: 3, verified_through_seq: head + 3, head_seq: head + 3, complete: true, checkpoint: "valid" });
    const idle = await api.get("/v1/audit/verify");
    expect(idle.body).toMatchObject({ chain_valid: true, events_checked: 0, verified_through_seq: head + 3, complete: true });
  });

  it("bounded work per call: limit events at a time, complete: false until the head is reached", async () => {
    const { owner, api } = await orgWithEvents(server, 12);
    const head = (await chainRows(server, owner.orgId)).length;
    const seen: number[] = [];
    for (let call = 0; call < 10; call++) {
      const res = await api.get("/v1/audit/verify?limit=5");
      expect(res.status).toBe(200);
      expect(res.body.chain_valid).toBe(true);
      expect(res.body.events_checked).toBeLessThanOrEqual(5);
      seen.push(res.body.verified_through_seq);
      if (res.body.complete) break;
    }
    expect(seen).toEqual([5, 10, head].slice(0, Math.ceil(head / 5)));
    expect(seen.at(-1)).toBe(head);
  });

  it("an event edited after the checkpoint is found by the next incremental call, which keeps finding it", async () => {
    const { owner, api, vaultId } = await orgWithEvents(server, 4);
    expect((await api.get("/v1/audit/verify")).body.chain_valid).toBe(true);
    for (let i = 0; i < 3; i++) expect((await api.put(`/v1/vaults/${vaultId}/secrets/after${i}`, { value: "x" })).status).toBe(201);
    const rows = await chainRows(server, owner.orgId);
    const victim = rows.at(-2)!;
    await raw(server, `UPDATE "AuditEvent" SET details = ? WHERE id = ?`, '{"path":"innocent"}', victim.id);
    for (let i = 0; i < 2; i++) {
      const res = await api.get("/v1/audit/verify");
      expect(res.body).toMatchObject({ chain_valid: false, broken_at_event_id: victim.id, verified_through_seq: victim.seq! - 1, mode: "incremental", checkpoint: "valid" });
    }
    await raw(server, `UPDATE "AuditEvent" SET details = ? WHERE id = ?`, victim.details, victim.id);
    expect((await api.get("/v1/audit/verify")).body).toMatchObject({ chain_valid: true, complete: true });
  });

  it("an edit before the checkpoint is not re-read incrementally, and full=true finds it", async () => {
    const { owner, api } = await orgWithEvents(server, 5);
    expect((await api.get("/v1/audit/verify")).body.chain_valid).toBe(true);
    const victim = (await chainRows(server, owner.orgId))[1]!;
    await raw(server, `UPDATE "AuditEvent" SET details = ? WHERE id = ?`, '{"path":"innocent"}', victim.id);
    // Documented: an incremental run vouches only for what was appended since the checkpoint.
    expect((await api.get("/v1/audit/verify")).body).toMatchObject({ chain_valid: true, events_checked: 0 });
    const full = await api.get("/v1/audit/verify?full=true");
    expect(full.body).toMatchObject({ chain_valid: false, broken_at_event_id: victim.id, events_checked: 2, mode: "full" });
  });

  it("a chain rewritten consistently (every hash recomputed) breaks against the signed checkpoint, incrementally and in full", async () => {
    const { owner, api, vaultId } = await orgWithEvents(server, 5);
    expect((await api.get("/v1/audit/verify")).body.chain_valid).toBe(true);
    const rows = await chainRows(server, owner.orgId);
    let prevHash = rows[0]!.hash!;
    for (const r of rows.slice(1)) {
      const details = r.seq === 2 ? '{"path":"innocent"}' : r.details;
      const hash = eventHash({ ...r, details, seq: r.seq!, prevHash });
      await raw(server, `UPDATE "AuditEvent" SET details = ?, "prevHash" = ?, hash = ? WHERE id = ?`, details, prevHash, hash, r.id);
      prevHash = hash;
    }
    const head = rows.at(-1)!;
    const full = await api.get("/v1/audit/verify?full=true");
    expect(full.body).toMatchObject({ chain_valid: false, broken_at_event_id: head.id, mode: "full" });
    expect(full.body.detail).toMatch(/checkpoint/);
    // The next event links to the rewritten head, not to the hash the checkpoint signed.
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/next`, { value: "x" })).status).toBe(201);
    const next = (await chainRows(server, owner.orgId)).at(-1)!;
    expect((await api.get("/v1/audit/verify")).body).toMatchObject({ chain_valid: false, broken_at_event_id: next.id, mode: "incremental" });
  });

  it("events deleted from the end below the checkpoint are reported", async () => {
    const { owner, api } = await orgWithEvents(server, 5);
    expect((await api.get("/v1/audit/verify")).body.chain_valid).toBe(true);
    const rows = await chainRows(server, owner.orgId);
    await raw(server, `DELETE FROM "AuditEvent" WHERE id = ?`, rows.at(-1)!.id);
    const res = await api.get("/v1/audit/verify");
    expect(res.body).toMatchObject({ chain_valid: false, broken_at_event_id: rows.at(-2)!.id });
    expect(res.body.detail).toMatch(/deleted/);
  });
});

describe("a checkpoint whose signature fails is ignored, reported, and the chain is verified from the start", () => {
  it("an edited checkpoint hash, signature or key id: checkpoint rejected, full chain read, fresh checkpoint signed", async () => {
    const { owner, api } = await orgWithEvents(server, 4);
    expect((await api.get("/v1/audit/verify")).body.checkpoint).toBe("none");
    const head = (await chainRows(server, owner.orgId)).length;
    const forgeries = [
      { hash: "f".repeat(64) },
      { signature: Buffer.alloc(64, 7).toString("base64url") },
      { keyId: "someone-elses-key" },
    ];
    for (const forged of forgeries) {
      await server.rt.db.auditCheckpoint.update({ where: { orgId: owner.orgId }, data: forged });
      const res = await api.get("/v1/audit/verify");
      expect(res.body).toMatchObject({ chain_valid: true, checkpoint: "rejected", events_checked: head, verified_through_seq: head, complete: true });
      // The run replaced it with a checkpoint that verifies.
      expect((await api.get("/v1/audit/verify")).body).toMatchObject({ checkpoint: "valid", events_checked: 0 });
    }
  });

  it("a checkpoint moved forward to skip a tampered event is rejected, and the tampering is found", async () => {
    const { owner, api, vaultId } = await orgWithEvents(server, 4);
    expect((await api.get("/v1/audit/verify")).body.chain_valid).toBe(true);
    for (let i = 0; i < 2; i++) expect((await api.put(`/v1/vaults/${vaultId}/secrets/skip${i}`, { value: "x" })).status).toBe(201);
    const rows = await chainRows(server, owner.orgId);
    const victim = rows.at(-2)!;
    await raw(server, `UPDATE "AuditEvent" SET details = ? WHERE id = ?`, '{"path":"innocent"}', victim.id);
    await server.rt.db.auditCheckpoint.update({ where: { orgId: owner.orgId }, data: { seq: rows.at(-1)!.seq!, hash: rows.at(-1)!.hash! } });
    const res = await api.get("/v1/audit/verify");
    expect(res.body).toMatchObject({ chain_valid: false, checkpoint: "rejected", broken_at_event_id: victim.id });
  });

  it("a forged checkpoint far past the head cannot stall verification: it is replaced once the chain is verified", async () => {
    const { owner, api } = await orgWithEvents(server, 8);
    expect((await api.get("/v1/audit/verify")).status).toBe(200);
    await server.rt.db.auditCheckpoint.update({ where: { orgId: owner.orgId }, data: { seq: 1_000_000 } });
    const first = await api.get("/v1/audit/verify?limit=3");
    expect(first.body).toMatchObject({ chain_valid: true, checkpoint: "rejected", verified_through_seq: 3, complete: false });
    const second = await api.get("/v1/audit/verify?limit=3");
    expect(second.body).toMatchObject({ chain_valid: true, checkpoint: "valid", verified_through_seq: 6 });
  });
});

describe("one verification per org at a time", () => {
  it("while another verification holds the org's lease: 409 with Retry-After; other orgs unaffected; afterwards 200", async () => {
    const { owner, api } = await orgWithEvents(server, 2);
    const other = await orgWithEvents(server, 2);
    const lease = await claimVerifyLease(server.rt.db, owner.orgId);
    expect(lease).not.toBeNull();
    try {
      expect(await claimVerifyLease(server.rt.db, owner.orgId)).toBeNull();
      const busy = await api.get("/v1/audit/verify");
      expect(busy.status).toBe(409);
      expect(busy.headers.get("retry-after")).toBe("5");
      expect(busy.headers.get("content-type")).toContain("application/problem+json");
      expect((await other.api.get("/v1/audit/verify")).status).toBe(200);
    } finally {
      await lease!.release();
    }
    expect((await api.get("/v1/audit/verify")).status).toBe(200);
  });

  it("a lease left by a crashed verifier expires", async () => {
    const { owner, api } = await orgWithEvents(server, 2);
    expect(await claimVerifyLease(server.rt.db, owner.orgId, Date.now() - 2 * VERIFY_LEASE_MS)).not.toBeNull();
    expect((await api.get("/v1/audit/verify")).status).toBe(200);
  });

  it("concurrent verifications of one org: each is 200 or 409, never 500, and at least one succeeds", async () => {
    const { api } = await orgWithEvents(server, 3);
    const results = await Promise.all(Array.from({ length: 8 }, () => api.get("/v1/audit/verify?full=true")));
    expect(results.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    expect(results.some((r) => r.status === 200)).toBe(true);
  });

  it(`across two instances on one database (${testDialect}): a verification held on one makes the other answer 409`, async () => {
    const owner = await signUpVerified(twins.a);
    const lease = await claimVerifyLease(twins.a.rt.db, owner.orgId);
    expect(lease).not.toBeNull();
    try {
      expect((await client(twins.b.url, owner.token).get("/v1/audit/verify")).status).toBe(409);
    } finally {
      await lease!.release();
    }
    expect((await client(twins.b.url, owner.token).get("/v1/audit/verify")).status).toBe(200);
  });
});

describe("metering", () => {
  it("a verification counts against the org's quota and carries the quota headers; listing events stays free", async () => {
    const { token, orgId } = await signUpVerified(server, { tier: "free" });
    const api = client(server.url, token);
    const before = (await api.get("/v1/billing/usage")).body.requests_used as number;
    const res = await api.get("/v1/audit/verify");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-requests-used")).toBe(String(before + 1));
    const events = await api.get("/v1/audit/events");
    expect(events.status).toBe(200);
    expect(events.headers.get("x-ratelimit-requests-used")).toBeNull();
    expect((await api.get("/v1/billing/usage")).body.requests_used).toBe(before + 1);

    // Out of quota (and no credits): 402, and no verification ran.
    await meterFor(server.rt).releaseAll();
    const period = periodOf(Date.now());
    await server.rt.db.usagePeriod.upsert({ where: { orgId_period: { orgId, period } }, create: { orgId, period, requests: 1000 }, update: { requests: 1000 } });
    const cpBefore = await server.rt.db.auditCheckpoint.findUnique({ where: { orgId } });
    const over = await api.get("/v1/audit/verify?full=true");
    expect(over.status).toBe(402);
    expect(await server.rt.db.auditCheckpoint.findUnique({ where: { orgId } })).toEqual(cpBefore);
  });
});
