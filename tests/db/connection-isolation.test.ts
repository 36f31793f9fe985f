import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, type Db, migrateDatabase, openDatabase } from "../../server/db";
import { hotSql } from "../../server/db/hot";
import { createPostgresDatabase, testDialect } from "../helpers/server";

/**
 * What runs outside an interactive transaction must never run inside one. On SQLite Prisma's adapter
 * and the hot path (server/db/hot.ts) share one connection: a plain statement issued while someone's
 * `$transaction` is open (awaiting between its statements) used to run inside it — a write then rolled
 * back with that transaction (lost) and a read saw its uncommitted rows. On PostgreSQL each statement
 * takes its own pooled connection; the same tests run there as the reference behaviour.
 */
let database: Database;
let db: Db;
let dataDir: string;
let dropPostgres: (() => Promise<void>) | undefined;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "talon-isolation-"));
  let url = `file:${path.join(dataDir, "talon.db")}`;
  if (testDialect === "postgres") {
    const pg = await createPostgresDatabase();
    url = pg.url;
    dropPostgres = pg.drop;
  }
  await migrateDatabase(url);
  database = await openDatabase(url);
  db = database.db;
});
afterAll(async () => {
  await database?.close();
  await dropPostgres?.();
  rmSync(dataDir, { recursive: true, force: true });
});

class Rollback extends Error {}

/** A transaction that inserted Org `id` and stays open until the test commits or rolls it back. */
function openTransaction(id: string) {
  let finish!: (outcome: "commit" | "rollback") => void;
  const outcome = new Promise<"commit" | "rollback">((r) => (finish = r));
  let inserted!: () => void;
  const ready = new Promise<void>((r) => (inserted = r));
  const done = db
    .$transaction(async (tx) => {
      await tx.org.create({ data: { id, name: "inside a transaction" } });
      inserted();
      if ((await outcome) === "rollback") throw new Rollback();
    })
    .catch((e: unknown) => {
      if (!(e instanceof Rollback)) throw e;
    });
  return { ready, done, commit: () => finish("commit"), rollback: () => finish("rollback") };
}

/** Fails instead of hanging when `p` waits for something it must not wait for. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

const HOT_INSERT = `INSERT INTO "Org" (id, name) VALUES ($1, $2)`;
const HOT_BY_ID = `SELECT id FROM "Org" WHERE id = $1`;
const uid = (label: string) => `${label}-${Math.random().toString(36).slice(2, 10)}`;
const tick = () => new Promise((r) => setTimeout(r, 30));

async function existing(ids: string[]): Promise<string[]> {
  const rows = await db.org.findMany({ where: { id: { in: ids } }, select: { id: true } });
  return rows.map((r) => r.id).sort();
}

describe("statements outside a transaction while one is open", () => {
  it("top-level and hot-path writes survive another transaction's rollback", async () => {
    const [inTx, prismaRow, rawRow, hotRow, renamed] = [uid("tx"), uid("prisma"), uid("raw"), uid("hot"), uid("renamed")];
    await db.org.create({ data: { id: renamed, name: "before" } });
    const t = openTransaction(inTx);
    await t.ready;
    const writes = Promise.all([
      db.org.create({ data: { id: prismaRow, name: "top-level write" } }),
      db.org.updateMany({ where: { id: renamed }, data: { name: "after" } }),
      db.$executeRaw`INSERT INTO "Org" (id, name) VALUES (${rawRow}, 'raw write')`,
      hotSql(db).run("test.insertOrg", HOT_INSERT, [hotRow, "hot-path write"]),
    ]);
    await tick();
    t.rollback();
    await t.done;
    const [, updated, rawChanged, hotChanged] = await writes;
    expect([updated.count, rawChanged, hotChanged]).toEqual([1, 1, 1]);
    expect(await existing([inTx, prismaRow, rawRow, hotRow])).toEqual([hotRow, prismaRow, rawRow].sort());
    expect((await db.org.findUnique({ where: { id: renamed } }))?.name).toBe("after");
  });

  it("writes waiting for a transaction that commits land too, and after it (control)", async () => {
    const [inTx, prismaRow, hotRow] = [uid("tx"), uid("prisma"), uid("hot")];
    const t = openTransaction(inTx);
    await t.ready;
    const writes = Promise.all([
      db.org.create({ data: { id: prismaRow, name: "top-level write" } }),
      hotSql(db).run("test.insertOrg", HOT_INSERT, [hotRow, "hot-path write"]),
      db.$executeRaw`UPDATE "Org" SET name = 'renamed' WHERE id = ${inTx}`,
    ]);
    await tick();
    t.commit();
    await t.done;
    const [, hotChanged, renamed] = await writes;
    expect(hotChanged).toBe(1);
    // SQLite has one writer: the UPDATE waited for the commit and then found the row. PostgreSQL ran it
    // at once, beside the transaction, where the uncommitted row is not visible to it.
    expect(renamed).toBe(testDialect === "sqlite" ? 1 : 0);
    expect(await existing([inTx, prismaRow, hotRow])).toEqual([inTx, hotRow, prismaRow].sort());
  });

  it("top-level and hot-path reads do not see another transaction's uncommitted row, and do not wait for it", async () => {
    const inTx = uid("tx");
    const t = openTransaction(inTx);
    await t.ready;
    try {
      expect(await within(db.org.findUnique({ where: { id: inTx } }), 3_000, "a Prisma read")).toBeNull();
      expect(await within(db.org.count({ where: { id: inTx } }), 3_000, "a Prisma count")).toBe(0);
      expect(await within(db.$queryRaw<{ id: string }[]>`SELECT id FROM "Org" WHERE id = ${inTx}`, 3_000, "a raw read")).toEqual([]);
      expect(await within(hotSql(db).get("test.orgById", HOT_BY_ID, [inTx]), 3_000, "a hot-path get")).toBeUndefined();
      expect(await within(hotSql(db).all("test.orgById", HOT_BY_ID, [inTx]), 3_000, "a hot-path all")).toEqual([]);
    } finally {
      t.commit();
      await t.done;
    }
    // Control: once committed, every read path sees it at once.
    expect((await db.org.findUnique({ where: { id: inTx } }))?.id).toBe(inTx);
    expect(await hotSql(db).get("test.orgById", HOT_BY_ID, [inTx])).toEqual({ id: inTx });
  });

  it.runIf(testDialect === "sqlite")("a hot-path read that would write is refused, also when the writer is idle", async () => {
    const id = uid("read-write");
    await expect(hotSql(db).all("test.insertReturning", `${HOT_INSERT} RETURNING id`, [id, "through a read"])).rejects.toThrow(/readonly/i);
    expect(await existing([id])).toEqual([]);
  });

  it("a read right after a top-level or hot-path write sees it", async () => {
    for (let i = 0; i < 20; i++) {
      const [a, b] = [uid("rw-prisma"), uid("rw-hot")];
      await db.org.create({ data: { id: a, name: "x" } });
      await hotSql(db).run("test.insertOrg", HOT_INSERT, [b, "x"]);
      expect(await hotSql(db).get("test.orgById", HOT_BY_ID, [a])).toEqual({ id: a });
      expect((await db.org.findUnique({ where: { id: b } }))?.id).toBe(b);
    }
  });

  it("a batch transaction of global-client queries is still one transaction", async () => {
    const [a, b] = [uid("batch-a"), uid("batch-b")];
    await db.$transaction([db.org.create({ data: { id: a, name: "a" } }), db.org.create({ data: { id: b, name: "b" } })]);
    expect(await existing([a, b])).toEqual([a, b].sort());
    const [c, d] = [uid("batch-c"), uid("batch-d")];
    // The second insert repeats the first's id: the whole batch rolls back.
    await expect(db.$transaction([db.org.create({ data: { id: c, name: "c" } }), db.org.create({ data: { id: c, name: "again" } }), db.org.create({ data: { id: d, name: "d" } })])).rejects.toThrow();
    expect(await existing([c, d])).toEqual([]);
  });

  it("under a mix of rolled-back transactions, top-level writes and hot-path writes, exactly the outside writes persist", async () => {
    const txIds: string[] = [];
    const outside: string[] = [];
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 15; i++) {
      const id = uid(`mix-tx-${i}`);
      txIds.push(id);
      work.push(
        db
          .$transaction(async (tx) => {
            await tx.org.create({ data: { id, name: "rolled back" } });
            await new Promise((r) => setTimeout(r, 5 + (i % 4) * 5));
            await tx.org.update({ where: { id }, data: { name: "still rolled back" } });
            throw new Rollback();
          })
          .catch((e: unknown) => {
            if (!(e instanceof Rollback)) throw e;
          }),
      );
      const p = uid(`mix-prisma-${i}`);
      const h = uid(`mix-hot-${i}`);
      outside.push(p, h);
      // Issued at staggered moments, so many land while some transaction is open.
      const later = (f: () => Promise<unknown>) => new Promise((r) => setTimeout(r, (i % 5) * 4)).then(f);
      work.push(later(() => (i % 2 ? db.org.create({ data: { id: p, name: "outside" } }) : db.$executeRaw`INSERT INTO "Org" (id, name) VALUES (${p}, 'outside')`)));
      work.push(later(() => hotSql(db).run("test.insertOrg", HOT_INSERT, [h, "outside"])));
      work.push(later(async () => expect(await hotSql(db).all("test.orgById", HOT_BY_ID, [id])).toEqual([])));
    }
    await Promise.all(work);
    expect(await existing([...txIds, ...outside])).toEqual([...outside].sort());
  });
});

describe("connections and reconnects", () => {
  it("after a $disconnect both read paths reconnect and stay isolated", async () => {
    await db.$disconnect();
    const inTx = uid("tx");
    const t = openTransaction(inTx);
    await t.ready;
    try {
      expect(await within(hotSql(db).get("test.orgById", HOT_BY_ID, [inTx]), 3_000, "a hot-path get")).toBeUndefined();
      expect(await within(db.org.findUnique({ where: { id: inTx } }), 3_000, "a Prisma read")).toBeNull();
    } finally {
      t.rollback();
      await t.done;
    }
    const after = uid("after-reconnect");
    expect(await hotSql(db).run("test.insertOrg", HOT_INSERT, [after, "x"])).toBe(1);
    expect((await db.org.findUnique({ where: { id: after } }))?.id).toBe(after);
  });

  it.runIf(testDialect === "sqlite")("closing the client closes every SQLite connection (the last one out removes the WAL)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "talon-isolation-close-"));
    try {
      const url = `file:${path.join(dir, "talon.db")}`;
      await migrateDatabase(url);
      const other = await openDatabase(url);
      await other.db.org.create({ data: { id: uid("close"), name: "x" } });
      expect(await hotSql(other.db).all("test.orgById", HOT_BY_ID, ["none"])).toEqual([]);
      expect(existsSync(path.join(dir, "talon.db-wal"))).toBe(true);
      await other.close();
      expect(existsSync(path.join(dir, "talon.db-wal"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("driver transactions (hotSql(db).transaction)", () => {
  /** A driver transaction that inserted Org `id` and stays open until the test ends it. */
  function openHotTransaction(id: string) {
    let finish!: (outcome: "commit" | "rollback") => void;
    const outcome = new Promise<"commit" | "rollback">((r) => (finish = r));
    let inserted!: () => void;
    const ready = new Promise<void>((r) => (inserted = r));
    const done = hotSql(db)
      .transaction("test.hotTx", async (tx) => {
        await tx.run("test.insertOrg", HOT_INSERT, [id, "inside a driver transaction"]);
        // Its own write is visible inside it.
        expect(await tx.get("test.orgById", HOT_BY_ID, [id])).toEqual({ id });
        inserted();
        if ((await outcome) === "rollback") throw new Rollback();
        return "committed";
      })
      .catch((e: unknown) => {
        if (!(e instanceof Rollback)) throw e;
        return "rolled back";
      });
    return { ready, done, commit: () => finish("commit"), rollback: () => finish("rollback") };
  }

  it("commits when the callback resolves and rolls back when it throws, and the error reaches the caller", async () => {
    const [kept, dropped] = [uid("hot-commit"), uid("hot-rollback")];
    const a = openHotTransaction(kept);
    await a.ready;
    a.commit();
    expect(await a.done).toBe("committed");
    const b = openHotTransaction(dropped);
    await b.ready;
    b.rollback();
    expect(await b.done).toBe("rolled back");
    expect(await existing([kept, dropped])).toEqual([kept]);
    // A failing statement fails the transaction: the earlier insert is gone too.
    const [first, dup] = [uid("hot-first"), uid("hot-dup")];
    await db.org.create({ data: { id: dup, name: "exists" } });
    await expect(
      hotSql(db).transaction("test.hotTx", async (tx) => {
        await tx.run("test.insertOrg", HOT_INSERT, [first, "x"]);
        await tx.run("test.insertOrg", HOT_INSERT, [dup, "again"]);
      }),
    ).rejects.toThrow();
    expect(await existing([first])).toEqual([]);
  });

  it("statements outside it neither see its rows nor roll back with it", async () => {
    const [inTx, prismaRow, hotRow] = [uid("htx"), uid("prisma"), uid("hot")];
    const t = openHotTransaction(inTx);
    await t.ready;
    expect(await within(hotSql(db).get("test.orgById", HOT_BY_ID, [inTx]), 3_000, "a hot-path read")).toBeUndefined();
    expect(await within(db.org.findUnique({ where: { id: inTx } }), 3_000, "a Prisma read")).toBeNull();
    const writes = Promise.all([db.org.create({ data: { id: prismaRow, name: "outside" } }), hotSql(db).run("test.insertOrg", HOT_INSERT, [hotRow, "outside"])]);
    await tick();
    t.rollback();
    await t.done;
    await writes;
    expect(await existing([inTx, prismaRow, hotRow])).toEqual([hotRow, prismaRow].sort());
  });

  it("interleaved with Prisma transactions and plain writes, every committed row is there and no rolled-back one", async () => {
    const kept: string[] = [];
    const dropped: string[] = [];
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 12; i++) {
      const [h, hr, p, w] = [uid(`mix-htx-${i}`), uid(`mix-htx-rb-${i}`), uid(`mix-ptx-${i}`), uid(`mix-w-${i}`)];
      kept.push(h, p, w);
      dropped.push(hr);
      const pause = () => new Promise((r) => setTimeout(r, (i % 3) * 3));
      work.push(
        hotSql(db).transaction("test.hotTx", async (tx) => {
          await tx.run("test.insertOrg", HOT_INSERT, [h, "kept"]);
          await pause();
        }),
      );
      work.push(
        hotSql(db)
          .transaction("test.hotTx", async (tx) => {
            await tx.run("test.insertOrg", HOT_INSERT, [hr, "dropped"]);
            await pause();
            throw new Rollback();
          })
          .catch((e: unknown) => {
            if (!(e instanceof Rollback)) throw e;
          }),
      );
      work.push(
        db.$transaction(async (tx) => {
          await tx.org.create({ data: { id: p, name: "kept" } });
          await pause();
        }),
      );
      work.push(hotSql(db).run("test.insertOrg", HOT_INSERT, [w, "kept"]));
    }
    await Promise.all(work);
    expect(await existing([...kept, ...dropped])).toEqual([...kept].sort());
  });
});
