import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import type { IsolationLevel, SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery, SqlResultSet, Transaction } from "@prisma/driver-adapter-utils";
import type BetterSqlite3 from "better-sqlite3";
import { WriteGate } from "./write-gate";

/**
 * Prisma's SQLite adapter runs everything on one connection, and its lock only orders interactive
 * transactions among themselves: a plain statement issued while a transaction is open (awaiting
 * between its statements) runs inside it — a write commits or rolls back with somebody else's
 * transaction, a read sees its uncommitted rows. Group commit (server/secrets/write-batch.ts) keeps
 * transactions open often, so this adapter, which Prisma and the hot path (./hot.ts) both use, keeps
 * what is outside a transaction outside:
 *
 * - a second, read-only connection on the same file takes every SELECT outside a transaction. In WAL
 *   mode it sees only committed data, and it neither waits for the writer nor makes it wait.
 * - the writing connection is held (WriteGate) by a transaction from BEGIN to COMMIT/ROLLBACK; a plain
 *   write waits for it instead of joining it. Writes never go to a second connection: better-sqlite3
 *   is synchronous, so one that met SQLite's write lock would block the event loop for busy_timeout.
 *
 * Both connections open and close together, once per `connect` (start-up, each reconnect after a
 * `$disconnect` or an outage). The gate belongs to the factory, so writers queued across a reconnect
 * keep their turn.
 */
export type SqliteConnections = {
  readonly writer: BetterSqlite3.Database;
  readonly reader: BetterSqlite3.Database;
  readonly gate: WriteGate;
};

/** Only a statement that starts with SELECT goes to the reader; anything else (PRAGMA, WITH…) is treated as a write. */
const READ = /^\s*SELECT\b/i;

/** The adapter's driver connection (its `client`), which the adapter does not type. */
const driverOf = (adapter: SqlDriverAdapter) => (adapter as unknown as { client: BetterSqlite3.Database }).client;

/** Runs `write` on the writer while holding the gate (at once if it is free). */
async function gated<T>(gate: WriteGate, waiter: string, write: () => Promise<T>): Promise<T> {
  const release = gate.tryAcquire() ?? (await gate.acquire(waiter));
  try {
    return await write();
  } finally {
    release();
  }
}

class GateHoldingTransaction implements Transaction {
  readonly provider: Transaction["provider"];
  readonly adapterName: string;
  readonly options: Transaction["options"];

  constructor(
    private readonly tx: Transaction,
    private readonly release: () => void,
  ) {
    this.provider = tx.provider;
    this.adapterName = tx.adapterName;
    this.options = tx.options;
  }

  queryRaw(q: SqlQuery): Promise<SqlResultSet> {
    return this.tx.queryRaw(q);
  }
  executeRaw(q: SqlQuery): Promise<number> {
    return this.tx.executeRaw(q);
  }
  createSavepoint(name: string): Promise<void> {
    return this.tx.createSavepoint!(name);
  }
  rollbackToSavepoint(name: string): Promise<void> {
    return this.tx.rollbackToSavepoint!(name);
  }
  releaseSavepoint(name: string): Promise<void> {
    return this.tx.releaseSavepoint!(name);
  }
  // Prisma calls these after its COMMIT/ROLLBACK statement, and `rollback` also when COMMIT failed.
  async commit(): Promise<void> {
    try {
      await this.tx.commit();
    } finally {
      this.release();
    }
  }
  async rollback(): Promise<void> {
    try {
      await this.tx.rollback();
    } finally {
      this.release();
    }
  }
}

class IsolatingSqliteAdapter implements SqlDriverAdapter, SqliteConnections {
  readonly provider = "sqlite" as const;
  readonly adapterName: string;
  readonly writer: BetterSqlite3.Database;
  readonly reader: BetterSqlite3.Database;

  constructor(
    private readonly main: SqlDriverAdapter,
    private readonly read: SqlDriverAdapter,
    readonly gate: WriteGate,
  ) {
    this.adapterName = main.adapterName;
    this.writer = driverOf(main);
    this.reader = driverOf(read);
  }

  queryRaw(q: SqlQuery): Promise<SqlResultSet> {
    if (READ.test(q.sql)) return this.read.queryRaw(q);
    return gated(this.gate, "write", () => this.main.queryRaw(q));
  }

  executeRaw(q: SqlQuery): Promise<number> {
    return gated(this.gate, "write", () => this.main.executeRaw(q));
  }

  executeScript(script: string): Promise<void> {
    return gated(this.gate, "write", () => this.main.executeScript(script));
  }

  async startTransaction(isolationLevel?: IsolationLevel): Promise<Transaction> {
    const release = await this.gate.acquire("transaction");
    try {
      return new GateHoldingTransaction(await this.main.startTransaction(isolationLevel), release);
    } catch (e) {
      release();
      throw e;
    }
  }

  async dispose(): Promise<void> {
    // The reader first: the writer, closing last, checkpoints the WAL and removes it.
    try {
      await this.read.dispose();
    } finally {
      await this.main.dispose();
    }
  }
}

export type SqliteSettings = {
  /** Runs on each new writing connection (journal mode, synchronous, busy timeout, foreign keys), with the gate that orders its users. */
  writer(conn: BetterSqlite3.Database, gate: WriteGate): void;
  /** Runs on each new read-only connection (what applies to a reader: the busy timeout). */
  reader(conn: BetterSqlite3.Database): void;
};

/** The adapter factory to hand to PrismaClient for a `file:` URL (see the comment at the top). */
export function isolatingSqliteAdapter(url: string, options: ConstructorParameters<typeof PrismaBetterSqlite3>[1], settings: SqliteSettings): SqlDriverAdapterFactory {
  const writerFactory = new PrismaBetterSqlite3({ url }, options);
  const readerFactory = new PrismaBetterSqlite3({ url, readonly: true, fileMustExist: true }, options);
  const gate = new WriteGate();
  return {
    provider: "sqlite",
    adapterName: writerFactory.adapterName,
    async connect() {
      const main = await writerFactory.connect();
      let read: SqlDriverAdapter;
      try {
        // The writer's settings first: the reader opens a database already in WAL mode.
        settings.writer(driverOf(main), gate);
        read = await readerFactory.connect();
      } catch (e) {
        await main.dispose();
        throw e;
      }
      try {
        settings.reader(driverOf(read));
      } catch (e) {
        await read.dispose();
        await main.dispose();
        throw e;
      }
      return new IsolatingSqliteAdapter(main, read, gate);
    },
  };
}
