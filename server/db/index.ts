import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { Checkpointer, FALLBACK_PAGES } from "./checkpointer";
import { trackPostgres, trackSqlite } from "./hot";
import { acquireInvalidation, registerInvalidation, watchWrites } from "./invalidation";
import { isolatingSqliteAdapter } from "./sqlite-adapter";
import type { DbPoolStats } from "../metrics";
import { PrismaClient as PostgresClient } from "../../generated/postgres/client";
import { PrismaClient as SqliteClient } from "../../generated/sqlite/client";

/**
 * Both generated clients have the same model API (one set of models, see prisma/); the SQLite one's
 * type stands for both. `dialect` lets the few raw statements differ where SQL does.
 */
export type Db = SqliteClient;
export type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];
export type Dialect = "sqlite" | "postgres";

/**
 * `poolStats` only on PostgreSQL: SQLite runs in process on two connections (./sqlite-adapter), with no
 * pool to observe. `checkpointer` only on SQLite: the worker that checkpoints its WAL (./checkpointer.ts).
 */
export type Database = { db: Db; dialect: Dialect; close(): Promise<void>; poolStats?: () => DbPoolStats; checkpointer?: Checkpointer };

/**
 * Interactive transactions may wait for a connection and for row locks (limits lock the Org row, so
 * concurrent creations in one org queue). Prisma's defaults (2 s to start, 5 s to finish) turn a
 * burst on a busy machine into 500s; these bounds still end a stuck transaction.
 */
const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 20_000 } as const;

export async function openDatabase(url: string): Promise<Database> {
  if (url.startsWith("file:")) {
    // Timestamps as epoch milliseconds: raw SQL then compares dates the same way on both databases.
    // Every connection pair the adapter opens (at start-up and again after a $disconnect or an outage)
    // gets the same settings. WAL lets the reader run beside the writer; NORMAL is durable across process
    // crashes in WAL mode; the busy timeout makes concurrent writers (other processes, the migrator) wait
    // instead of failing. Checkpoints run in a worker thread (./checkpointer.ts); the writer's own
    // automatic checkpoint is only the fallback.
    const checkpointer = new Checkpointer();
    const adapter = isolatingSqliteAdapter(url, { timestampFormat: "unixepoch-ms" }, {
      writer(conn, gate) {
        conn.pragma("journal_mode = WAL");
        conn.pragma("synchronous = NORMAL");
        conn.pragma("busy_timeout = 5000");
        conn.pragma("foreign_keys = ON");
        conn.pragma(`wal_autocheckpoint = ${FALLBACK_PAGES}`);
        checkpointer.start(conn.name, gate);
      },
      reader(conn) {
        conn.pragma("busy_timeout = 5000");
      },
    });
    const hot = trackSqlite(adapter);
    // One Talon process per SQLite file: this process sees every write (./invalidation.ts).
    const { inv, release } = await acquireInvalidation(url);
    watchWrites(adapter, inv);
    const db = new SqliteClient({ adapter, transactionOptions: TRANSACTION_OPTIONS });
    await db.$connect().catch(async (e: unknown) => {
      await checkpointer.close();
      await release();
      throw e;
    });
    hot.register(db);
    registerInvalidation(db, inv);
    const close = async () => {
      await checkpointer.close();
      await release();
      await db.$disconnect();
    };
    return { db, dialect: "sqlite", close, checkpointer };
  }
  // Our own pool, handed to the adapter (which ends it on disconnect; on a reconnect the adapter opens a
  // new one from the same settings, which the hot path and the pool stats then follow).
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  const hot = trackPostgres(adapter, pg.types);
  // Caches are bypassed while the NOTIFY listener is down (./invalidation.ts).
  const { inv, release } = await acquireInvalidation(url);
  watchWrites(adapter, inv);
  const db = new PostgresClient({ adapter, transactionOptions: TRANSACTION_OPTIONS }) as unknown as Db;
  await db.$queryRawUnsafe("SELECT 1").catch(async (e: unknown) => {
    await release();
    throw e;
  });
  hot.register(db);
  registerInvalidation(db, inv);
  const poolStats = () => {
    const p = hot.current() ?? pool;
    return { total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount };
  };
  const close = async () => {
    await release();
    await db.$disconnect();
  };
  return { db, dialect: "postgres", close, poolStats };
}

/** Applies pending migrations (the offline WASM migrator in scripts/db). */
export async function migrateDatabase(url: string, projectRoot = process.cwd()): Promise<string[]> {
  const path = await import("node:path");
  const { pathToFileURL } = await import("node:url");
  const kit = pathToFileURL(path.join(projectRoot, "scripts/db/wasm-migrate.mjs")).href;
  const { migrateDeploy } = (await import(/* webpackIgnore: true */ kit)) as {
    migrateDeploy(o: { url: string; schemaPath: string; migrationsDir: string }): Promise<string[]>;
  };
  const dir = url.startsWith("file:") ? "prisma/sqlite" : "prisma/postgres";
  return migrateDeploy({
    url,
    schemaPath: path.join(projectRoot, dir, "schema.prisma"),
    migrationsDir: path.join(projectRoot, dir, "migrations"),
  });
}
