/**
 * Time-ordered ids (server/db/ids.ts) and the hot-path rows that use them: audit events and secret
 * versions, whose primary-key inserts then stay together in the index instead of scattering.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ZUuid } from "../../lib/contract/common";
import { timeOrderedId } from "../../server/db/ids";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const msOf = (id: string) => parseInt(id.replace(/-/g, "").slice(0, 12), 16);

describe("timeOrderedId", () => {
  test("is a UUID version 7 carrying its millisecond, accepted wherever the API takes a UUID", () => {
    const at = Date.UTC(2026, 11, 5, 1, 2, 3, 456);
    const id = timeOrderedId(at);
    expect(id).toMatch(V7);
    expect(msOf(id)).toBe(at);
    expect(ZUuid.safeParse(id).success).toBe(true);
    const before = Date.now();
    const now = timeOrderedId();
    expect(msOf(now)).toBeGreaterThanOrEqual(before);
    expect(msOf(now)).toBeLessThanOrEqual(Date.now());
  });

  test("ids of later milliseconds sort after earlier ones; 100,000 ids (past many pool refills) are distinct", () => {
    const base = Date.now();
    const ids = Array.from({ length: 1000 }, (_, i) => timeOrderedId(base + i));
    expect([...ids].sort()).toEqual(ids);
    const many = new Set<string>();
    for (let i = 0; i < 100_000; i++) many.add(timeOrderedId(base));
    expect(many.size).toBe(100_000);
    // The random part really varies (all 74 bits, not a counter).
    const tails = new Set([...many].slice(0, 1000).map((id) => id.slice(19)));
    expect(tails.size).toBe(1000);
  });
});

describe("per-request usage history rows (TALON_BILLING=on) get time-ordered ids", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { TALON_BILLING: "on" } });
  });
  afterAll(async () => server?.close());

  test("a metered request's usage event", async () => {
    const owner = await signUpVerified(server);
    const api = client(server.url, owner.token);
    expect((await api.get("/v1/vaults")).status).toBe(200);
    let rows: { id: string; createdAt: Date }[] = [];
    const end = Date.now() + 5_000;
    while (rows.length === 0 && Date.now() < end) {
      // Written off the request's path, in batches every 200 ms.
      await new Promise((r) => setTimeout(r, 100));
      rows = await server.rt.db.usageEvent.findMany({ where: { orgId: owner.orgId } });
    }
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.id).toMatch(V7);
      expect(msOf(r.id)).toBe(r.createdAt.getTime());
    }
  });
});

describe("hot-path rows get time-ordered ids", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  test("a PUT's secret version and audit event, and a read's audit event", async () => {
    const owner = await signUpVerified(server);
    const api = client(server.url, owner.token);
    const vault = await api.post("/v1/vaults", { name: `ids-${Date.now()}` });
    expect(vault.status).toBe(201);
    const before = Date.now();
    expect((await api.put(`/v1/vaults/${vault.body.id}/secrets/ids/one`, { value: "v1" })).status).toBe(201);
    expect((await api.get(`/v1/vaults/${vault.body.id}/secrets/ids/one`)).status).toBe(200);
    await server.rt.audit.drain();
    const versions = await server.rt.db.secretVersion.findMany({ where: { secret: { vaultId: vault.body.id } } });
    expect(versions).toHaveLength(1);
    expect(versions[0]!.id).toMatch(V7);
    expect(msOf(versions[0]!.id)).toBe(versions[0]!.createdAt.getTime());
    const events = await server.rt.db.auditEvent.findMany({ where: { orgId: owner.orgId, action: { in: ["secret.write", "secret.read"] } } });
    expect(events.map((e) => e.action).sort()).toEqual(["secret.read", "secret.write"]);
    for (const e of events) {
      expect(e.id).toMatch(V7);
      expect(msOf(e.id)).toBe(e.createdAt.getTime());
      expect(msOf(e.id)).toBeGreaterThanOrEqual(before);
    }
  });
});
