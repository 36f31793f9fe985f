import BetterSqlite3 from "better-sqlite3";
import { randomUUID } from "node:crypto";
import { mkdtempSync, openSync, closeSync, readFileSync, readSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FALLBACK_PAGES } from "../../server/db/checkpointer";
import { type Database, migrateDatabase, openDatabase } from "../../server/db";
import { testDialect } from "../helpers/server";

/**
 * SQLite's WAL is copied into the database file by a worker thread (server/db/checkpointer.ts), not by
 * the COMMIT that crosses 1,000 pages on the event loop. A marker row is written; it reaches the main
 * database file only through a checkpoint, which the writer itself would not run for a few pages.
 */
describe.skipIf(testDialect !== "sqlite")("SQLite checkpoints in a worker thread", () => {
  let database: Database;
  let dataDir: string;
  let file: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "talon-checkpoint-"));
    file = path.join(dataDir, "talon.db");
    await migrateDatabase(`file:${file}`);
    database = await openDatabase(`file:${file}`);
  });
  afterAll(async () => {
    await database?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Writes a row whose name is a fresh marker; resolves with the marker. */
  async function writeMarker(): Promise<string> {
    const marker = `checkpoint-marker-${randomUUID()}`;
    await database.db.org.create({ data: { id: randomUUID(), name: marker } });
    return marker;
  }

  /** Waits until `marker` is in the database file itself (not only in its WAL); false after `ms`. */
  async function reachesMainFile(marker: string, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    for (;;) {
      if (readFileSync(file).includes(marker)) return true;
      if (Date.now() > end) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  const checkpointer = () => database.checkpointer!;

  /** The first `length` bytes of a file. */
  function head(name: string, length: number): Buffer {
    const fd = openSync(name, "r");
    try {
      const bytes = Buffer.alloc(length);
      readSync(fd, bytes, 0, length, 0);
      return bytes;
    } finally {
      closeSync(fd);
    }
  }
  // The WAL file keeps its largest size (no journal_size_limit), so its length gives the most frames it
  // ever held; its header holds the page size (bytes 8–11, big-endian) and a checkpoint sequence number
  // that counts its restarts (bytes 12–15). The WAL index (the -shm file, native byte order: x86 here)
  // holds the last committed frame at byte 16.
  const walFrames = () => Math.floor((statSync(`${file}-wal`).size - 32) / (head(`${file}-wal`, 16).readUInt32BE(8) + 24));
  const restarts = () => head(`${file}-wal`, 16).readUInt32BE(12);
  const walLast = () => head(`${file}-shm`, 20).readUInt32LE(16);

  /**
   * `writers` writers of 1,000-byte rows into wal_fill until `done()`; each yields to the event loop
   * between writes (as requests arrive), and waits `pauseMs` if given. Rows of 1,000 bytes share pages, as
   * secret versions and audit rows do, so a checkpoint copies a page once however many commits rewrote it.
   */
  async function writeUntil(done: () => boolean, writers = 8, pauseMs = 0): Promise<void> {
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (!done()) {
          await database.db.$executeRawUnsafe("INSERT INTO wal_fill (b) VALUES (randomblob(1000))");
          await new Promise((resolve) => (pauseMs ? setTimeout(resolve, pauseMs) : setImmediate(resolve)));
        }
      }),
    );
  }

  it("leaves the writer's own automatic checkpoint only as the fallback", async () => {
    // Not a SELECT, so it runs on the writing connection (server/db/sqlite-adapter.ts).
    const [row] = await database.db.$queryRawUnsafe<{ wal_autocheckpoint: number | bigint }[]>("PRAGMA wal_autocheckpoint");
    expect(Number(row!.wal_autocheckpoint)).toBe(FALLBACK_PAGES);
    expect(checkpointer().threadId).toEqual(expect.any(Number));
  });

  it("copies a committed write into the database file without the writer checkpointing", async () => {
    const marker = await writeMarker();
    expect(readFileSync(`${file}-wal`).includes(marker)).toBe(true);
    expect(await reachesMainFile(marker, 3_000)).toBe(true);
  });

  it("starts the WAL again under a steady stream of writes, long before the writer's fallback", async () => {
    await database.db.$executeRawUnsafe("CREATE TABLE wal_fill (b BLOB)");
    const first = restarts();
    // Eight writers without a pause: a commit lands during every checkpoint, so without the worker's
    // RESTART the WAL would only start again once the writer's own checkpoint ran at FALLBACK_PAGES (0 or
    // 1 restarts, tried); the WAL grows by ≈ 20,000 frames a second.
    const started = Date.now();
    const end = started + 60_000;
    await writeUntil(() => restarts() - first >= 3 || walFrames() >= FALLBACK_PAGES || Date.now() > end);
    // Said on failure: how far the stream got, for telling a slow machine from a WAL that never restarted.
    const seen = `${restarts() - first} restarts and a WAL of ${walFrames()} frames after ${Date.now() - started} ms`;
    expect(restarts() - first, seen).toBeGreaterThanOrEqual(3);
    expect(walFrames(), seen).toBeLessThan(FALLBACK_PAGES);
  }, 90_000);

  it("leaves a WAL a reader still needs, asking for the writer's turn at most once per 100 ms, and starts it again once the reader ends", async () => {
    const reader = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
    try {
      // The reader's transaction keeps the snapshot of its first read: no checkpoint copies past it.
      reader.exec("BEGIN");
      reader.prepare("SELECT count(*) FROM wal_fill").get();
      // Past 7,000 frames the worker asks whatever its catch-up found; its RESTART cannot finish. (A
      // reader that began on a WAL copied to its end reads the database file alone, and the first write
      // may still start the WAL again; after that nothing can be copied until the reader ends.)
      await writeUntil(() => walLast() >= 7_500);
      const first = restarts();
      const asked = checkpointer().asks;
      const since = Date.now();
      await writeUntil(() => Date.now() - since >= 600, 1, 2);
      const held = Date.now() - since;
      const asks = checkpointer().asks - asked;
      expect(restarts()).toBe(first);
      expect(asks, `${asks} asks in ${held} ms`).toBeGreaterThan(0);
      expect(asks, `${asks} asks in ${held} ms`).toBeLessThanOrEqual(Math.floor(held / 100) + 1);
      reader.exec("COMMIT");
      const end = Date.now() + 10_000;
      await writeUntil(() => restarts() > first || Date.now() > end, 1, 2);
      expect(restarts()).toBeGreaterThan(first);
    } finally {
      reader.close();
    }
  });

  it("starts the worker again when it stops", async () => {
    const before = checkpointer().threadId;
    await (checkpointer() as unknown as { worker: Worker }).worker.terminate();
    const marker = await writeMarker();
    expect(await reachesMainFile(marker, 5_000)).toBe(true);
    expect(checkpointer().threadId).not.toBe(before);
  });

  it("stops the worker when the database closes, and a reopened database has its own", async () => {
    await database.close();
    expect(checkpointer().threadId).toBeNull();
    database = await openDatabase(`file:${file}`);
    const marker = await writeMarker();
    expect(await reachesMainFile(marker, 3_000)).toBe(true);
  });
});
