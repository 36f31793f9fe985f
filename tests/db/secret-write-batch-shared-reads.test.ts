import { randomBytes, randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuditRowInput, auditLockKey, eventHash, GENESIS_HASH } from "../../server/audit/chain";
import { appendAuditRowsOn, chainHead, LOCK_HEADS, StatementAppend } from "../../server/audit/repo";
import type { CmekState } from "../../server/cmek/state";
import { hotSql, jsonLiteral } from "../../server/db/hot";
import { lockAndReadForWrite, secretPathKey, writeSecretVersions } from "../../server/secrets/repo";
import { type BatchedWrite, writeInBatch } from "../../server/secrets/write-batch";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";
import { putNextVersion, secretWriteAudit } from "../helpers/write-batch";

/**
 * What the write batch and the audit append read and write together on PostgreSQL, to spend fewer
 * round trips (server/secrets/write-batch.ts, server/audit/repo.ts): the vaults' CMEK state read with the
 * heads (the vault row still share-locked until the batch commits), the new and moved secret rows and
 * the versions written in one statement, and the orgs' active webhooks read with the audit insert. On
 * SQLite the same calls take their plain paths; the outcomes must be the same.
 */
let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let other: Awaited<ReturnType<typeof signUpVerified>>;
let vaultId: string;

beforeAll(async () => {
  server = await startTestServer();
  owner = await signUpVerified(server);
  other = await signUpVerified(server);
  const vault = await client(server.url, owner.token).post("/v1/vaults", { name: "shared-reads" });
  expect(vault.status).toBe(201);
  vaultId = vault.body.id as string;
});
afterAll(async () => {
  await server?.close();
});

/** The next version at `path`; `during` runs in its check (after the batch's locks and heads read). */
function nextVersion(path: string, during?: (batch: Parameters<BatchedWrite<number>["check"]>[1]) => Promise<void>): BatchedWrite<number> {
  return {
    vaultId,
    path,
    check: async (_tx, batch) => {
      const current = await batch.current(vaultId, path);
      await during?.(batch);
      return async () => {
        const { id, version } = putNextVersion(batch, vaultId, path, current);
        return { result: version, audit: secretWriteAudit(owner, vaultId, id, path) };
      };
    },
  };
}

describe(`secret write batch and audit append, shared reads and writes (${testDialect})`, () => {
  it("new paths and existing ones in one batch: every secret row and version written, the chain valid", async () => {
    await writeInBatch(server.rt, nextVersion("m/old"));
    const results = await Promise.all([
      writeInBatch(server.rt, nextVersion("m/new1")),
      writeInBatch(server.rt, nextVersion("m/old")),
      writeInBatch(server.rt, nextVersion("m/new2")),
      writeInBatch(server.rt, nextVersion("m/new1")),
      writeInBatch(server.rt, nextVersion("m/old")),
    ]);
    expect(results).toEqual([1, 2, 1, 2, 3]);
    const rows = await server.rt.db.secret.findMany({ where: { vaultId, path: { startsWith: "m/" } }, include: { versions: { orderBy: { version: "asc" } } }, orderBy: { path: "asc" } });
    expect(rows.map((r) => [r.path, r.currentVersion, r.versions.map((v) => v.version)])).toEqual([
      ["m/new1", 2, [1, 2]],
      ["m/new2", 1, [1]],
      ["m/old", 3, [1, 2, 3]],
    ]);
    expect((await client(server.url, owner.token).get("/v1/audit/verify")).body.chain_valid).toBe(true);
  });

  it("the CMEK state: one read per batch, the vault row share-locked until the batch commits", async () => {
    const states: CmekState[] = [];
    const lockAttempts: string[] = [];
    const tryLockVault = async () => {
      if (testDialect !== "postgres") return;
      const c = new pg.Client({ connectionString: server.databaseUrl });
      await c.connect();
      try {
        await c.query(`SELECT 1 FROM "Vault" WHERE id = $1 FOR UPDATE NOWAIT`, [vaultId]);
        lockAttempts.push("locked");
      } catch (e) {
        lockAttempts.push(String((e as { code?: string }).code));
      } finally {
        await c.end();
      }
    };
    const during = async (batch: Parameters<BatchedWrite<number>["check"]>[1]) => {
      states.push(await batch.cmekState(vaultId));
      await tryLockVault();
    };
    await Promise.all([writeInBatch(server.rt, nextVersion("c/a", during)), writeInBatch(server.rt, nextVersion("c/b", during))]);
    expect(states).toEqual([
      { cmekEnabled: false, cmekFingerprint: null, cmekRotationJobId: null },
      { cmekEnabled: false, cmekFingerprint: null, cmekRotationJobId: null },
    ]);
    expect(states[0]).toBe(states[1]);
    // 55P03: lock_not_available — an UPDATE enabling CMEK would wait for the batch.
    if (testDialect === "postgres") expect(lockAttempts).toEqual(["55P03", "55P03"]);
    // Once committed, the row is free again.
    await tryLockVault();
    if (testDialect === "postgres") expect(lockAttempts[2]).toBe("locked");
  });

  it("audit append across orgs: deliveries for the org with an active webhook only, both chains valid", async () => {
    const hookId = randomUUID();
    await server.rt.db.webhook.create({
      data: { id: hookId, orgId: other.orgId, url: "http://127.0.0.1:9/hook", events: JSON.stringify(["audit.*"]), sealedSecret: randomBytes(32), createdBy: `user:${other.userId}` },
    });
    const row = (who: typeof owner): AuditRowInput => ({ ...secretWriteAudit(who, vaultId, randomUUID(), "x"), action: "test.event", resourceType: "test" });
    const rows = [row(owner), row(other), row(owner), row(other)];
    await hotSql(server.rt.db).transaction("test.append", (tx) => appendAuditRowsOn(tx, rows));
    const deliveries = await server.rt.db.webhookDelivery.findMany({ where: { webhookId: hookId } });
    expect(deliveries.length).toBe(2);
    expect(new Set(deliveries.map((d) => d.eventId)).size).toBe(2);
    const stored = await server.rt.db.auditEvent.findMany({ where: { id: { in: rows.map((r) => r.id) } } });
    expect(stored.length).toBe(4);
    expect((await client(server.url, owner.token).get("/v1/audit/verify")).body.chain_valid).toBe(true);
    expect((await client(server.url, other.token).get("/v1/audit/verify")).body.chain_valid).toBe(true);
  });

  /**
   * What another instance does: `probe` takes `orgId`'s chain lock and inserts one chained event for it.
   * Resolves once the lock is held, with `release` (commits) and `done` (resolves after the commit).
   */
  async function otherInstanceAppends(probe: pg.Client, orgId: string): Promise<{ release(): void; done: Promise<void> }> {
    await probe.query("BEGIN");
    await probe.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [auditLockKey(orgId)]);
    await probe.query(
      `INSERT INTO "AuditEvent" (id, "orgId", action, "actorId", "actorType", "resourceType", "resourceId", seq, "prevHash", hash)
       VALUES ($1, $2, 'test.event', 'test', 'user', 'org', $2, 1, $3, $4)`,
      [randomUUID(), orgId, "0".repeat(64), "f".repeat(64)],
    );
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    return { release, done: released.then(async () => void (await probe.query("COMMIT"))) };
  }

  it.runIf(testDialect === "postgres")("the chain's lock and head read see what the previous holder committed while they waited", async () => {
    const probe = new pg.Client({ connectionString: server.databaseUrl });
    await probe.connect();
    try {
      const orgId = `lock-heads-${randomUUID()}`;
      const holder = await otherInstanceAppends(probe, orgId);
      const read = hotSql(server.rt.db).transaction("test.lockHeads", (tx) => tx.all("audit.lockHeads", LOCK_HEADS, [[auditLockKey(orgId)], [orgId]]));
      // Still waiting for the lock after a while; answered with the holder's event once it commits.
      const early = await Promise.race([read.then(() => "answered"), new Promise((r) => setTimeout(() => r("waiting"), 300))]);
      expect(early).toBe("waiting");
      holder.release();
      await holder.done;
      expect((await read).map(chainHead)).toEqual([{ seq: 1, hash: "f".repeat(64) }]);
    } finally {
      await probe.end();
    }
  });

  it.runIf(testDialect === "postgres")("the batch's first statement takes the path locks, then reads the heads the previous holder committed while it waited", async () => {
    const probe = new pg.Client({ connectionString: server.databaseUrl });
    await probe.connect();
    try {
      await writeInBatch(server.rt, nextVersion("w/a"));
      const before = await server.rt.db.secret.findUniqueOrThrow({ where: { vaultId_path: { vaultId, path: "w/a" } } });
      // Another instance holds the path's lock and moves the head (a rename stands in for its write).
      await probe.query("BEGIN");
      await probe.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`talon.secret:${vaultId}:w/a`]);
      await probe.query(`UPDATE "Secret" SET "rotationPolicy" = 'moved-while-locked' WHERE id = $1`, [before.id]);
      const { opening, read: readRows } = lockAndReadForWrite([{ vaultId, path: "w/a" }, { vaultId, path: "w/a" }], [vaultId]);
      const read = hotSql(server.rt.db).transaction("test.lockAndRead", async (_tx, opened) => readRows(opened), opening);
      const early = await Promise.race([read.then(() => "answered"), new Promise((r) => setTimeout(() => r("waiting"), 300))]);
      expect(early).toBe("waiting");
      await probe.query("COMMIT");
      const { heads, cmek } = await read;
      expect(heads.get(secretPathKey(vaultId, "w/a"))).toMatchObject({ id: before.id, currentVersion: before.currentVersion, rotationPolicy: "moved-while-locked" });
      expect(cmek.get(vaultId)).toEqual({ cmekEnabled: false, cmekFingerprint: null, cmekRotationJobId: null });
    } finally {
      await probe.end();
    }
  });

  it.runIf(testDialect === "postgres")("an opening statement's values are hex in its text and arrive unchanged, whatever they hold", async () => {
    const values = ["'; DROP TABLE \"Secret\"; --", "\\' \\\\ $1 $J ünïcödé 🙂", "\u0001\n\t", "", "x".repeat(5000)];
    const sql = `SELECT ARRAY(SELECT e FROM json_array_elements_text(${jsonLiteral(values)}) WITH ORDINALITY AS t(e, n) ORDER BY n) AS "v"`;
    expect(sql).toMatch(/decode\('[0-9a-f]+', 'hex'\)/);
    expect(sql).not.toContain("DROP");
    const got = await hotSql(server.rt.db).transaction("test.opening", async (_tx, opened) => opened, { name: "test.opening", sql });
    expect(got).toEqual([{ v: values }]);
  });

  it.runIf(testDialect === "postgres")("the batch's last write statement chains its events onto the heads the holder left, and holds the chain locks to COMMIT", async () => {
    const probe = new pg.Client({ connectionString: server.databaseUrl });
    const holderClient = new pg.Client({ connectionString: server.databaseUrl });
    await probe.connect();
    await holderClient.connect();
    const tryLock = async (key: string) => {
      const r = await probe.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS ok`, [key]);
      return r.rows[0]!.ok;
    };
    try {
      const hookId = randomUUID();
      await server.rt.db.webhook.create({
        data: { id: hookId, orgId: other.orgId, url: "http://127.0.0.1:9/hook", events: JSON.stringify(["audit.*"]), sealedSecret: randomBytes(32), createdBy: `user:${other.userId}` },
      });
      const at = new Date();
      const id = randomUUID();
      const waitedFor = `lock-heads-${randomUUID()}`;
      const orgs = [owner.orgId, other.orgId, waitedFor].sort();
      const lastOf = (orgId: string) => server.rt.db.auditEvent.findFirst({ where: { orgId, seq: { not: null } }, orderBy: { seq: "desc" } });
      const before = await lastOf(owner.orgId);
      // Every string the encoding escapes (quotes, backslashes, control characters, non-ASCII), which the
      // database must hash exactly as this process does.
      const tricky = `"quoted" back\\slash \n\t\u0001 ünïcödé 🙂 ${"x".repeat(300)}`;
      const rows: AuditRowInput[] = [
        { ...secretWriteAudit(owner, vaultId, id, "l/a", { note: tricky }), requestId: tricky, ipAddress: "::1" },
        { ...secretWriteAudit(other, vaultId, randomUUID(), "l/b"), action: "test.event", resourceType: "test" },
        { ...secretWriteAudit(owner, vaultId, id, "l/a"), orgId: waitedFor, actorId: tricky },
        { ...secretWriteAudit(owner, vaultId, id, "l/a"), orgId: waitedFor },
      ];
      const holder = await otherInstanceAppends(holderClient, waitedFor);
      setTimeout(holder.release, 300);
      const held: boolean[] = [];
      await hotSql(server.rt.db).transaction("test.writeThenAppend", async (tx) => {
        const append = new StatementAppend(rows);
        const answer = await writeSecretVersions(
          tx,
          [{ id, vaultId, path: "l/a", version: 1, exists: false, rotation: { rotationPolicy: null, rotationDueAt: null, rotationNotifiedAt: null }, at }],
          [{ id: randomUUID(), secretId: id, version: 1, type: "generic", ciphertext: randomBytes(40), metadata: "{}", expiresAt: null, maxAccessCount: 0, cmekFingerprint: null, createdBy: "test", createdAt: at }],
          append,
        );
        for (const o of orgs) held.push(await tryLock(auditLockKey(o)));
        await append.finish(tx, answer!);
      });
      await holder.done;
      // Held by the writing transaction (the probe could not take them), free once it committed.
      expect(held).toEqual([false, false, false]);
      await probe.query("BEGIN");
      expect(await tryLock(auditLockKey(orgs[0]!))).toBe(true);
      await probe.query("ROLLBACK");
      expect((await server.rt.db.secret.findUniqueOrThrow({ where: { vaultId_path: { vaultId, path: "l/a" } } })).currentVersion).toBe(1);

      const stored = new Map((await server.rt.db.auditEvent.findMany({ where: { id: { in: rows.map((r) => r.id) } } })).map((e) => [e.id, e]));
      const [mine, theirs, waited1, waited2] = rows.map((r) => stored.get(r.id)!);
      // Chained onto the head the holder committed while the statement waited for its lock.
      expect([waited1!.seq, waited1!.prevHash, waited2!.seq, waited2!.prevHash]).toEqual([2, "f".repeat(64), 3, waited1!.hash]);
      expect([mine!.seq, mine!.prevHash]).toEqual([(before?.seq ?? 0) + 1, before?.hash ?? GENESIS_HASH]);
      expect(mine!.requestId).toBe(tricky);
      for (const e of [mine, theirs, waited1, waited2]) expect(e!.hash).toBe(eventHash({ ...e!, seq: e!.seq!, prevHash: e!.prevHash! }));
      expect((await client(server.url, owner.token).get("/v1/audit/verify")).body.chain_valid).toBe(true);
      expect((await client(server.url, other.token).get("/v1/audit/verify")).body.chain_valid).toBe(true);
      // The webhook read with the append gets its delivery, with the chain fields the database made.
      const delivered = await server.rt.db.webhookDelivery.findMany({ where: { webhookId: hookId } });
      expect(delivered.map((d) => JSON.parse(d.payload).data)).toMatchObject([{ id: theirs!.id, seq: theirs!.seq, hash: theirs!.hash, prev_hash: theirs!.prevHash }]);
    } finally {
      await probe.end();
      await holderClient.end();
    }
  });

  it("an event the database did not chain, or chained with another hash, fails the append before anything else is written", async () => {
    const row = secretWriteAudit(owner, vaultId, randomUUID(), "f/a");
    const append = new StatementAppend([row]);
    const sql = hotSql(server.rt.db);
    await expect(sql.transaction("test.forged", (tx) => append.finish(tx, [["event", row.id, null, 1, GENESIS_HASH, "0".repeat(64), null]]))).rejects.toThrow(
      /another hash/,
    );
    const honest = eventHash({ ...row, seq: 1, prevHash: GENESIS_HASH });
    await expect(sql.transaction("test.forged", (tx) => append.finish(tx, [["event", row.id, null, 2, GENESIS_HASH, honest, null]]))).rejects.toThrow(/another hash/);
    await expect(sql.transaction("test.missing", (tx) => append.finish(tx, []))).rejects.toThrow(/did not chain/);
    expect(await server.rt.db.auditEvent.count({ where: { id: row.id } })).toBe(0);
  });
});
