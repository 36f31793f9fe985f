import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../../server/db";
import { outboxTokenFor } from "../helpers/accounts";
import { type ApiProcess, startApiProcess } from "../helpers/api-process";
import { client } from "../helpers/http";
import { createPostgresDatabase, testDialect } from "../helpers/server";
import { waitFor } from "../helpers/webhook-receiver";

/**
 * Two Talon processes on one database (PostgreSQL, or one SQLite file), each scanning for due
 * rotations every 50 ms: every due `auto_rotate` secret gets exactly one new version and one
 * `secret.rotate` event, and every due reminder exactly one `secret.rotation_due` event, because each
 * is claimed by one conditional UPDATE that only one instance can win.
 */
const SECRETS = 20;
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function twoInstances(): Promise<{ a: ApiProcess; b: ApiProcess; dataDir: string; db: Database }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "talon-rotation-race-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const env: Record<string, string> = {
    TALON_DATA_DIR: dataDir,
    TALON_KEYSTORE: "local",
    TALON_PUBLIC_URL: "http://talon.test",
    TALON_BILLING: "off",
    TALON_ROTATION_SCAN_MS: "50",
    DATABASE_URL: `file:${path.join(dataDir, "talon.db")}`,
  };
  if (testDialect === "postgres") {
    const pg = await createPostgresDatabase();
    cleanups.push(() => pg.drop());
    env.DATABASE_URL = pg.url;
  }
  const a = await startApiProcess(env);
  cleanups.push(() => a.stop());
  const b = await startApiProcess(env, { migrate: false });
  cleanups.push(() => b.stop());
  const db = await openDatabase(env.DATABASE_URL!);
  cleanups.push(() => db.close());
  return { a, b, dataDir, db };
}

describe("two instances scanning the same due secrets", () => {
  it("each due auto_rotate secret is rotated exactly once, each reminder announced exactly once", async () => {
    const { a, b, dataDir, db } = await twoInstances();
    const email = `rot-${Date.now()}@example.test`;
    expect((await client(a.url).post("/v1/auth/signup", { email, password: "correct horse battery staple" })).status).toBe(201);
    const verified = await client(a.url).post("/v1/auth/verify-email", { token: outboxTokenFor({ dataDir }, email) });
    expect(verified.status).toBe(200);
    const api = client(a.url, verified.body.access_token as string);
    const apiB = client(b.url, verified.body.access_token as string);
    const vaultId = (await api.post("/v1/vaults", { name: "race" })).body.id as string;
    for (let i = 0; i < SECRETS; i++) {
      const put = await api.put(`/v1/vaults/${vaultId}/secrets/auto/key-${i}`, { type: "api_key", value: `original-${i}`, rotation_policy: { interval_days: 1, auto_rotate: true } });
      expect(put.status).toBe(201);
    }
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/remind/me`, { value: "r", rotation_policy: { interval_days: 1 } })).status).toBe(201);

    // All due at once: both instances find all of them on their next scans.
    const { count } = await db.db.secret.updateMany({ where: { vaultId }, data: { rotationDueAt: new Date(Date.now() - 60_000) } });
    expect(count).toBe(SECRETS + 1);

    const ids = (await db.db.secret.findMany({ where: { vaultId, path: { startsWith: "auto/" } }, select: { id: true } })).map((s) => s.id);
    await waitFor(
      "every secret rotated",
      async () => (await db.db.secret.count({ where: { id: { in: ids }, currentVersion: 2 } })) === SECRETS,
      30_000,
    );
    await waitFor("the reminder", async () => (await db.db.auditEvent.count({ where: { action: "secret.rotation_due", details: { contains: "remind/me" } } })) > 0, 30_000);
    // Many more scans on both instances: nothing more happens.
    await new Promise((r) => setTimeout(r, 1500));

    expect(await db.db.secretVersion.count({ where: { secretId: { in: ids } } })).toBe(SECRETS * 2);
    expect(await db.db.secret.count({ where: { id: { in: ids }, currentVersion: 2 } })).toBe(SECRETS);
    const rotations = await db.db.auditEvent.findMany({ where: { action: "secret.rotate", resourceId: { in: ids } }, select: { resourceId: true, actorId: true } });
    expect(rotations).toHaveLength(SECRETS);
    expect(new Set(rotations.map((r) => r.resourceId)).size).toBe(SECRETS);
    expect(rotations.every((r) => r.actorId === "system:rotation")).toBe(true);
    expect(await db.db.auditEvent.count({ where: { action: "secret.rotation_due" } })).toBe(1);

    // The new values open on either instance and differ from the originals.
    for (const i of [0, SECRETS - 1]) {
      const read = await apiB.get(`/v1/vaults/${vaultId}/secrets/auto/key-${i}`);
      expect(read.status).toBe(200);
      expect(read.body.version).toBe(2);
      expect(read.body.value).toMatch(/^[A-Za-z0-9]{32}$/);
    }
    const chain = await apiB.get("/v1/audit/verify");
    expect(chain.body.chain_valid).toBe(true);
    for (const p of [a, b]) expect(p.output()).not.toMatch(/rotation (scan|of a due secret) failed/);
  }, 180_000);
});
