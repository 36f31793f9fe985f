import BetterSqlite3 from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, type Db, migrateDatabase, openDatabase } from "../../server/db";
import { hotSql } from "../../server/db/hot";
import { testDialect } from "../helpers/server";

/**
 * On SQLite the hot path's reads of one turn of the event loop share one read transaction on the
 * writing connection (server/db/hot.ts, openSnapshot): BEGIN before the first, COMMIT when the turn
 * ends. What that must keep: every read sees what was committed before it (a write of this process
 * waits for the turn's end, then commits), the snapshot always ends, and nothing waits on it for longer.
 */
describe.skipIf(testDialect !== "sqlite")("SQLite: one read snapshot per turn", () => {
  let database: Database;
  let db: Db;
  let dataDir: string;
  let file: string;
  /** Another connection on the file, as another program would have: its commits do not go through this process's gate. */
  let outside: BetterSqlite3.Database;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "talon-snapshot-"));
    file = path.join(dataDir, "talon.db");
    await migrateDatabase(`file:${file}`);
    database = await openDatabase(`file:${file}`);
    db = database.db;
    outside = new BetterSqlite3(file);
    outside.pragma("busy_timeout = 5000");
  });
  afterAll(async () => {
    outside?.close();
    await database?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const BY_ID = `SELECT id AS "id", name AS "name" FROM "Org" WHERE id = $1`;
  const INSERT = `INSERT INTO "Org" (id, name) VALUES ($1, $2)`;
  const uid = (label: string) => `${label}-${Math.random().toString(36).slice(2, 10)}`;
  const nextTurn = () => new Promise((r) => setImmediate(r));

  it("reads of one turn see one snapshot; the next turn's reads see later commits", async () => {
    const sql = hotSql(db);
    const id = uid("org");
    // First read of the turn: the snapshot starts here. A commit made outside the process right after
    // is not in it, so a second read in the same turn still finds nothing…
    const first = sql.all("test.byId", BY_ID, [id]);
    outside.prepare(`INSERT INTO "Org" (id, name) VALUES (?, ?)`).run(id, "committed outside");
    const second = sql.all("test.byId", BY_ID, [id]);
    expect(await first).toEqual([]);
    expect(await second).toEqual([]);
    // …and once the turn is over, the snapshot has ended: the commit is seen.
    await nextTurn();
    expect(await sql.all("test.byId", BY_ID, [id])).toEqual([{ id, name: "committed outside" }]);
  });

  it("a write issued during the turn's reads commits when the turn ends, and the reads after it see it", async () => {
    const sql = hotSql(db);
    const id = uid("org");
    const before = sql.all("test.byId", BY_ID, [id]);
    const written = sql.run("test.insert", INSERT, [id, "hot write"]);
    expect(await before).toEqual([]);
    expect(await written).toBe(1);
    expect(await sql.all("test.byId", BY_ID, [id])).toEqual([{ id, name: "hot write" }]);
    // Prisma's own writes and transactions queue behind the snapshot the same way, and are seen after.
    const prismaId = uid("org");
    const [none, created] = await Promise.all([
      sql.all("test.byId", BY_ID, [prismaId]),
      db.$transaction(async (tx) => tx.org.create({ data: { id: prismaId, name: "prisma" } })),
    ]);
    expect(none).toEqual([]);
    expect(created.id).toBe(prismaId);
    expect(await sql.all("test.byId", BY_ID, [prismaId])).toEqual([{ id: prismaId, name: "prisma" }]);
  });

  it("a turn whose read fails still ends its snapshot", async () => {
    const sql = hotSql(db);
    const id = uid("org");
    const ok = sql.all("test.byId", BY_ID, [id]);
    await expect(sql.all("test.bad", `SELECT nope FROM "Org"`, [])).rejects.toThrow(/no such column/);
    expect(await ok).toEqual([]);
    await nextTurn();
    // Were the writer left in the snapshot's transaction, this write would fail ("cannot start a
    // transaction within a transaction") or wait for ever behind the gate.
    await sql.transaction("test.tx", async (tx) => tx.run("test.insert", INSERT, [id, "after a failed read"]));
    expect(outside.prepare(`SELECT name FROM "Org" WHERE id = ?`).get(id)).toEqual({ name: "after a failed read" });
  });

  it("reads inside a transaction see its own writes, outside it only what is committed", async () => {
    const sql = hotSql(db);
    const id = uid("org");
    let seenOutside: unknown[] = ["not read"];
    await sql.transaction("test.tx", async (tx) => {
      await tx.run("test.insert", INSERT, [id, "inside"]);
      expect(await tx.all("test.byId", BY_ID, [id])).toEqual([{ id, name: "inside" }]);
      // The writer is in this transaction: a read outside it goes to the read-only connection.
      seenOutside = await sql.all("test.byId", BY_ID, [id]);
    });
    expect(seenOutside).toEqual([]);
    expect(await sql.all("test.byId", BY_ID, [id])).toEqual([{ id, name: "inside" }]);
  });
});
