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
    // The WAL file keeps its largest size (no journal_size_limit), so its length gives the most frames it
    // ever held; its header's checkpoint sequence number (bytes 12–15, big-endian) counts its restarts.
    const [row] = await database.db.$queryRawUnsafe<{ page_size: number | bigint }[]>("PRAGMA page_size");
    const frameBytes = Number(row!.page_size) + 24;
    const walFrames = () => Math.floor((statSync(`${file}-wal`).size - 32) / frameBytes);
    const restarts = () => {
      const fd = openSync(`${file}-wal`, "r");
      try {
        const header = Buffer.alloc(16);
        readSync(fd, header, 0, 16, 0);
        return header.readUInt32BE(12);
      } finally {
        closeSync(fd);
      }
    };
    await database.db.$executeRawUnsafe("CREATE TABLE wal_fill (b BLOB)");
    const first = restarts();
    // Eight writers without a pause (each yields to the event loop between writes, as requests arrive):
    // a commit lands during every checkpoint, so without the worker's RESTART the WAL would only start
    // again once the writer's own checkpoint ran at FALLBACK_PAGES (0 or 1 restarts, tried). Rows of
    // 1,000 bytes share pages, as secret versions and audit rows do, so a checkpoint copies a page once
    // however many commits rewrote it; the WAL still grows by ≈ 20,000 frames a second.
    const started = Date.now();
    const end = started + 60_000;
    const done = () => restarts() - first >= 3 || walFrames() >= FALLBACK_PAGES || Date.now() > end;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (!done()) {
          await database.db.$executeRawUnsafe("INSERT INTO wal_fill (b) VALUES (randomblob(1000))");
          await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );
    // Said on failure: how far the stream got, for telling a slow machine from a WAL that never restarted.
    const seen = `${restarts() - first} restarts and a WAL of ${walFrames()} frames after ${Date.now() - started} ms`;
    expect(restarts() - first, seen).toBeGreaterThanOrEqual(3);
    expect(walFrames(), seen).toBeLessThan(FALLBACK_PAGES);
  }, 90_000);

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
