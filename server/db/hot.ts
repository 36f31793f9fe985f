import type BetterSqlite3 from "better-sqlite3";
import type pg from "pg";
import { type AtOnce, asPromise, thenAtOnce } from "../../lib/at-once";
import { log } from "../log";
import type { SqliteConnections } from "./sqlite-adapter";

type Dialect = "sqlite" | "postgres";
/** A Prisma client, structurally (so ./index can import this file without an import cycle). */
type PrismaLike = { $connect(): Promise<void> };
/** A driver adapter factory (PrismaBetterSqlite3, PrismaPg): Prisma calls `connect` at start-up and again after each `$disconnect`. */
type AdapterFactory = { connect(): Promise<unknown> };

/**
 * The hot path's way to the database: the drivers themselves, without Prisma's client, query compiler
 * and adapter (≈ 40 % of a secret read's CPU in the issue-10 profile). Statements are written once in
 * PostgreSQL's `$1, $2…` form and run unchanged there as named prepared statements (prepared once per
 * pooled connection by `pg`); on SQLite the same text is rewritten to positional `?` once and prepared
 * once per connection, then reused. Rows come back as plain objects whose values differ by driver
 * (SQLite: epoch-ms numbers for DateTime, 0/1 for Boolean, Buffer for Bytes; PostgreSQL: Date, boolean,
 * Buffer); each domain's repo.ts normalises them.
 *
 * The connection is never one captured at start-up: every call takes the driver objects of the adapter
 * Prisma has open *now* (its SQLite connections, its pg pool), recorded each time Prisma connects. When
 * Prisma has let it go (`$disconnect`, an outage), the call asks Prisma to connect again first, so the
 * hot path and Prisma recover together. Driver errors are thrown as the driver gives them (SqliteError
 * `SQLITE_BUSY`, `SQLITE_CANTOPEN`…, pg's FATAL / class-08 / 57P errors, socket errors); the pipeline's
 * `databaseOutage` (server/http/errors.ts) turns those into the same 503 + Retry-After as Prisma's.
 *
 * Prisma stays the schema, the migrations and every cold path; the queries here are reads or single
 * statements, named by the repo that owns them (`secrets.read`, `auth.agentJwt`, …). On SQLite they
 * keep out of Prisma's open transactions as Prisma's own plain statements do (./sqlite-adapter.ts):
 * reads on the read-only connection, writes on the writer once no transaction holds it.
 */
export type HotRow = Record<string, unknown>;

/** Statements inside one driver transaction (`HotSql.transaction`): reads see the transaction's own writes. */
export interface HotTx {
  readonly dialect: Dialect;
  /** Every row of a statement (a SELECT, or a write with RETURNING). `name` identifies the statement (one SQL text per name). */
  all(name: string, sql: string, params: readonly unknown[]): Promise<HotRow[]>;
  /** The first row, or undefined. */
  get(name: string, sql: string, params: readonly unknown[]): Promise<HotRow | undefined>;
  /** A write; resolves with the number of rows it changed. */
  run(name: string, sql: string, params: readonly unknown[]): Promise<number>;
  /** The same write once per parameter list, in order (SQLite: all at once, one promise); resolves with the rows changed by all. */
  runEach(name: string, sql: string, paramLists: readonly (readonly unknown[])[]): Promise<number>;
}

/** Outside a transaction: `all`/`get` read committed data, `run` is one statement in its own implicit transaction. */
export interface HotSql extends HotTx {
  /**
   * `fn` inside one transaction on the writing connection (SQLite: BEGIN IMMEDIATE, holding the write
   * gate, so Prisma's statements and transactions wait for it as for each other; PostgreSQL: one pooled
   * connection). Committed when `fn` resolves, rolled back when it throws (the error propagates).
   * `fn` may await other work, but everything it waits on holds the database's one writer (SQLite).
   */
  transaction<T>(name: string, fn: (tx: HotTx, opened: HotRow[]) => Promise<T>, opening?: Opening): Promise<T>;
  /**
   * `all`, answered at once when the driver can: SQLite's rows on open connections are the array itself
   * (and a failure is thrown, not a rejected promise); a promise only when it must wait (a reconnect,
   * PostgreSQL always). For a hot path's one read, which then needs neither a promise nor a turn.
   */
  rowsAtOnce(name: string, sql: string, params: readonly unknown[]): AtOnce<HotRow[]>;
}

/**
 * A transaction's first statement, without parameters (its values are literals: see `jsonLiteral`);
 * PostgreSQL sends it with BEGIN, in one round trip. `fn` gets its rows.
 */
export type Opening = { name: string; sql: string };

/**
 * PostgreSQL: `value` as a json literal for an Opening's text: its JSON is sent hex-encoded, so the
 * statement holds only hex digits where the value goes, and no value can be read as SQL, whatever it holds.
 */
export const jsonLiteral = (value: unknown): string => `convert_from(decode('${Buffer.from(JSON.stringify(value), "utf8").toString("hex")}', 'hex'), 'UTF8')::json`;

/** Records what the hot path needs (`take`) of every adapter Prisma opens through `factory`. */
class Connections<C> {
  current: C | null = null;
  private reconnecting: Promise<void> | null = null;
  db: PrismaLike | null = null;

  constructor(factory: AdapterFactory, take: (adapter: unknown) => C) {
    const connect = factory.connect.bind(factory);
    factory.connect = async () => {
      const adapter = await connect();
      this.current = take(adapter);
      return adapter;
    };
  }

  /** Asks Prisma to open its adapter again (single flight); its errors (an outage) propagate. */
  async reconnect(): Promise<C> {
    if (!this.db) throw new Error("The hot path's database client is not registered");
    const before = this.current;
    this.reconnecting ??= this.db.$connect().finally(() => (this.reconnecting = null));
    await this.reconnecting;
    // Prisma may consider itself connected while we saw the old handle: then there is no new one.
    if (this.current === null || this.current === before) throw connectionUnavailable();
    return this.current;
  }
}

/** The error of a call that found no usable connection even after asking Prisma for one: an outage (503). */
function connectionUnavailable(): Error {
  return Object.assign(new Error("The database connection is closed"), { code: "ECONNRESET" });
}

/** `row`: the statement's rows as objects, for one that returns data (see rowBuilder). */
type Prepared = { stmt: BetterSqlite3.Statement; order: number[]; row: ((values: unknown[]) => HotRow) | null };

/**
 * Rows as objects, built here rather than by better-sqlite3, whose statements return arrays (`raw`): the
 * driver sets each column of each row as a property through V8's API, a third of a 20-column secret
 * read's statement, while an object literal of the statement's column names is one allocation of a shape
 * V8 already knows (docs/perf: 10.5 → 7.7 µs a read). The names are the statement's, each JSON-quoted
 * into the literal, so a name is only ever a string key; a later duplicate wins, as in the driver's
 * objects. `__proto__` would set the prototype in a literal, so it is refused (no statement here names it).
 */
function rowBuilder(columns: readonly string[]): (values: unknown[]) => HotRow {
  if (columns.includes("__proto__")) throw new Error("A hot-path statement may not name a column __proto__");
  return new Function("v", `return {${columns.map((n, i) => `${JSON.stringify(n)}: v[${i}]`).join(", ")}};`) as (values: unknown[]) => HotRow;
}

/** `$1 … $n` → `?` in order of appearance, with the parameter index each `?` takes. */
function positional(sql: string): { sql: string; order: number[] } {
  const order: number[] = [];
  const text = sql.replace(/\$(\d+)/g, (_m, n: string) => {
    order.push(Number(n) - 1);
    return "?";
  });
  return { sql: text, order };
}

function bind(p: Prepared, params: readonly unknown[]): unknown[] {
  return p.order.map((i) => {
    const v = params[i];
    if (v instanceof Date) return v.getTime();
    if (typeof v === "boolean") return v ? 1 : 0;
    return v;
  });
}

class SqliteHot implements HotSql {
  readonly dialect = "sqlite" as const;
  /** Statements are per connection: a reconnect starts an empty map. */
  private prepared = new WeakMap<BetterSqlite3.Database, Map<string, Prepared>>();
  /** The writer while it holds this turn's read snapshot (openSnapshot), else null. */
  private snapshot: BetterSqlite3.Database | null = null;

  constructor(private readonly conns: Connections<SqliteConnections>) {}

  private statement(conn: BetterSqlite3.Database, name: string, sql: string): Prepared {
    let byName = this.prepared.get(conn);
    if (!byName) this.prepared.set(conn, (byName = new Map()));
    let p = byName.get(name);
    if (!p) {
      const { sql: text, order } = positional(sql);
      const stmt = conn.prepare(text);
      let row = null;
      if (stmt.reader) {
        // Epoch-ms timestamps and counters fit in a double; the adapter's connection default is BigInt.
        stmt.safeIntegers(false);
        stmt.raw(true);
        row = rowBuilder(stmt.columns().map((c) => c.name));
      }
      p = { stmt, order, row };
      byName.set(name, p);
    }
    return p;
  }

  /** Every row of a prepared statement that returns data, as objects. */
  private rows(p: Prepared, params: readonly unknown[]): HotRow[] {
    // The driver refuses `all` on a statement that returns no data, so `row` is there past this line.
    const values = p.stmt.all(...bind(p, params)) as unknown[][];
    return values.map(p.row as (values: unknown[]) => HotRow);
  }

  /** The connections Prisma has open now, or fresh ones Prisma opens for us (an outage throws). */
  private connections(): AtOnce<SqliteConnections> {
    const c = this.conns.current;
    return c?.writer.open && c.reader.open ? c : this.conns.reconnect();
  }

  private allOn(conn: BetterSqlite3.Database, name: string, sql: string, params: readonly unknown[]): HotRow[] {
    return this.rows(this.statement(conn, name, sql), params);
  }

  /**
   * A read outside any transaction: on the writer, in this turn's read snapshot (below), when nobody
   * else holds the writer (nothing uncommitted can be there), else on the read-only connection. The
   * writer's page cache survives its own commits, while the reader's is emptied by every commit it
   * sees — under the group commits, one read in every 15–20. A statement that would write goes to the
   * reader, which refuses it, as before.
   */
  private readOn(c: SqliteConnections, name: string, sql: string, params: readonly unknown[]): HotRow[] {
    if (this.snapshot === c.writer || this.openSnapshot(c)) {
      const p = this.statement(c.writer, name, sql);
      if (p.stmt.readonly) return this.rows(p, params);
    }
    return this.allOn(c.reader, name, sql, params);
  }

  /**
   * One read transaction for the reads of a turn of the event loop, on the writer: BEGIN before the
   * first, COMMIT once the turn's callbacks have run (setImmediate). In WAL mode every statement outside
   * a transaction takes and drops a read lock on the shared-memory index, two `fcntl` calls, which are
   * most of a one-row SELECT's cost (docs/perf: 12.5 µs a read alone, 5.5 µs eight to a transaction).
   * The snapshot holds the write gate, so no write of this process (hot path or Prisma) can commit while
   * it is open — one process owns the file (./sqlite-owner.ts) — and every read in it sees all that was
   * committed before it; a write waits at most until the turn ends, as for any holder of the gate.
   * Opened only when the gate is free and the writer outside a transaction.
   */
  private openSnapshot(c: SqliteConnections): boolean {
    if (c.writer.inTransaction) return false;
    const release = c.gate.tryAcquire();
    if (!release) return false;
    try {
      this.runOn(c.writer, "tx.beginRead", "BEGIN", []);
    } catch (e) {
      release();
      throw e;
    }
    this.snapshot = c.writer;
    setImmediate(() => this.closeSnapshot(c.writer, release));
    return true;
  }

  /** Ends the turn's read snapshot (a closed connection has ended it already) and hands the gate on. */
  private closeSnapshot(writer: BetterSqlite3.Database, release: () => void): void {
    this.snapshot = null;
    try {
      if (writer.open && writer.inTransaction) this.runOn(writer, "tx.endRead", "COMMIT", []);
    } catch (e) {
      // A read-only transaction has nothing to commit; whatever failed, the writer must not stay in it.
      log.warn("sqlite: a read snapshot did not commit; rolling it back", { code: (e as { code?: unknown }).code });
      try {
        if (writer.open && writer.inTransaction) this.runOn(writer, "tx.rollback", "ROLLBACK", []);
      } catch (again) {
        log.error("sqlite: a read snapshot could not be ended", { code: (again as { code?: unknown }).code });
      }
    } finally {
      release();
    }
  }

  rowsAtOnce(name: string, sql: string, params: readonly unknown[]): AtOnce<HotRow[]> {
    return thenAtOnce(this.connections(), (c) => this.readOn(c, name, sql, params));
  }

  all(name: string, sql: string, params: readonly unknown[]): Promise<HotRow[]> {
    try {
      // The common case stays synchronous: no extra turn of the event loop for an open connection.
      return asPromise(this.rowsAtOnce(name, sql, params));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  async get(name: string, sql: string, params: readonly unknown[]): Promise<HotRow | undefined> {
    return (await this.all(name, sql, params))[0];
  }

  /** `use` on the writer while holding the gate: the writer serves Prisma's transactions too, so a statement issued while one is open would run inside it (and roll back with it). */
  private async onWriter<T>(name: string, use: (writer: BetterSqlite3.Database) => Promise<T> | T): Promise<T> {
    const { gate } = await this.connections();
    const release = gate.tryAcquire() ?? (await gate.acquire(name));
    try {
      // A wait may have outlived the connection (a $disconnect meanwhile): the one open now.
      const { writer } = await this.connections();
      return await use(writer);
    } finally {
      release();
    }
  }

  /** Runs synchronously on `conn`: a write, or (with RETURNING) its rows. */
  runOn(conn: BetterSqlite3.Database, name: string, sql: string, params: readonly unknown[]): number {
    const p = this.statement(conn, name, sql);
    return p.stmt.run(...bind(p, params)).changes;
  }

  rowsOn(conn: BetterSqlite3.Database, name: string, sql: string, params: readonly unknown[]): HotRow[] {
    return this.allOn(conn, name, sql, params);
  }

  run(name: string, sql: string, params: readonly unknown[]): Promise<number> {
    return this.onWriter(name, (writer) => this.runOn(writer, name, sql, params));
  }

  runEach(name: string, sql: string, paramLists: readonly (readonly unknown[])[]): Promise<number> {
    return this.onWriter(name, (writer) => this.runEachOn(writer, name, sql, paramLists));
  }

  runEachOn(conn: BetterSqlite3.Database, name: string, sql: string, paramLists: readonly (readonly unknown[])[]): number {
    let changes = 0;
    for (const params of paramLists) changes += this.runOn(conn, name, sql, params);
    return changes;
  }

  transaction<T>(name: string, fn: (tx: HotTx, opened: HotRow[]) => Promise<T>, opening?: Opening): Promise<T> {
    return this.onWriter(name, async (writer) => {
      // IMMEDIATE: the write lock now, so a transaction that reads first never fails to upgrade.
      this.runOn(writer, "tx.begin", "BEGIN IMMEDIATE", []);
      const tx = new SqliteHotTx(this, writer);
      try {
        const out = await fn(tx, opening ? await tx.all(opening.name, opening.sql, []) : []);
        this.runOn(writer, "tx.commit", "COMMIT", []);
        return out;
      } catch (e) {
        // SQLite may already have rolled back (some errors end the transaction themselves).
        if (writer.open && writer.inTransaction) this.runOn(writer, "tx.rollback", "ROLLBACK", []);
        throw e;
      } finally {
        tx.done = true;
      }
    });
  }
}

class SqliteHotTx implements HotTx {
  readonly dialect = "sqlite" as const;
  done = false;

  constructor(
    private readonly hot: SqliteHot,
    private readonly writer: BetterSqlite3.Database,
  ) {}

  private live(): BetterSqlite3.Database {
    if (this.done) throw new Error("This transaction has ended");
    return this.writer;
  }

  all(name: string, sql: string, params: readonly unknown[]): Promise<HotRow[]> {
    try {
      return Promise.resolve(this.hot.rowsOn(this.live(), name, sql, params));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  async get(name: string, sql: string, params: readonly unknown[]): Promise<HotRow | undefined> {
    return (await this.all(name, sql, params))[0];
  }

  run(name: string, sql: string, params: readonly unknown[]): Promise<number> {
    try {
      return Promise.resolve(this.hot.runOn(this.live(), name, sql, params));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  runEach(name: string, sql: string, paramLists: readonly (readonly unknown[])[]): Promise<number> {
    try {
      return Promise.resolve(this.hot.runEachOn(this.live(), name, sql, paramLists));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }
}

/** `timestamp(3)` without time zone holds UTC (as Prisma writes it); pg would read it as local time. */
const TIMESTAMP_OID = 1114;
const utcTimestamp = (s: string) => new Date(`${s.replace(" ", "T")}Z`);

/**
 * Parameters as pg sends them, except Dates: pg would write one in the process's local time with its
 * offset, which a `timestamp(3)` column (no time zone, UTC by convention) drops; an ISO string's "Z" is
 * ignored there instead, leaving UTC, and read correctly by a `timestamptz`.
 */
const pgValues = (params: readonly unknown[]) => params.map((v) => (v instanceof Date ? v.toISOString() : v));

/** What both PostgreSQL handles (the pool's and a transaction's client) build on their `query`. */
abstract class PostgresStatements implements HotTx {
  readonly dialect = "postgres" as const;

  protected abstract query(name: string, sql: string, params: readonly unknown[]): Promise<pg.QueryResult>;

  async all(name: string, sql: string, params: readonly unknown[]): Promise<HotRow[]> {
    return (await this.query(name, sql, params)).rows as HotRow[];
  }

  async get(name: string, sql: string, params: readonly unknown[]): Promise<HotRow | undefined> {
    return (await this.query(name, sql, params)).rows[0] as HotRow | undefined;
  }

  async run(name: string, sql: string, params: readonly unknown[]): Promise<number> {
    return (await this.query(name, sql, params)).rowCount ?? 0;
  }

  async runEach(name: string, sql: string, paramLists: readonly (readonly unknown[])[]): Promise<number> {
    let changes = 0;
    for (const params of paramLists) changes += await this.run(name, sql, params);
    return changes;
  }
}

class PostgresHot extends PostgresStatements implements HotSql {
  readonly types: { getTypeParser: (oid: number, format?: string) => (v: string) => unknown };

  constructor(
    private readonly conns: Connections<pg.Pool>,
    pgTypes: typeof pg.types,
  ) {
    super();
    this.types = {
      getTypeParser: (oid: number, format?: string) =>
        oid === TIMESTAMP_OID ? utcTimestamp : (pgTypes.getTypeParser(oid, (format ?? "text") as "text") as (v: string) => unknown),
    };
  }

  /** The pool of the adapter Prisma has open now (each query takes a connection from it), or a fresh one. */
  private async pool(): Promise<pg.Pool> {
    const pool = this.conns.current;
    // `ending` is set once the pool was ended (Prisma's $disconnect ends it): it can serve nothing more.
    if (pool && !(pool as pg.Pool & { ending?: boolean }).ending) return pool;
    return this.conns.reconnect();
  }

  rowsAtOnce(name: string, sql: string, params: readonly unknown[]): Promise<HotRow[]> {
    return this.all(name, sql, params);
  }

  protected async query(name: string, sql: string, params: readonly unknown[]): Promise<pg.QueryResult> {
    const pool = await this.pool();
    return pool.query({ name, text: sql, values: pgValues(params), types: this.types });
  }

  async transaction<T>(_name: string, fn: (tx: HotTx, opened: HotRow[]) => Promise<T>, opening?: Opening): Promise<T> {
    const client = await (await this.pool()).connect();
    const tx = new PostgresHotTx(client, this.types);
    // A connection whose ROLLBACK failed is in an unknown state: destroyed, not returned to the pool.
    let broken: Error | undefined;
    try {
      let opened: HotRow[] = [];
      if (opening) {
        // Two statements in one simple query (no parameters): one round trip, one result each.
        const results = (await client.query({ text: `BEGIN; ${opening.sql}`, types: this.types })) as unknown as pg.QueryResult[];
        opened = results[1]!.rows as HotRow[];
      } else {
        await client.query("BEGIN");
      }
      const out = await fn(tx, opened);
      await client.query("COMMIT");
      return out;
    } catch (e) {
      await client.query("ROLLBACK").catch((r: unknown) => (broken = r instanceof Error ? r : new Error("ROLLBACK failed")));
      throw e;
    } finally {
      tx.done = true;
      client.release(broken);
    }
  }

}

class PostgresHotTx extends PostgresStatements {
  done = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly types: PostgresHot["types"],
  ) {
    super();
  }

  protected async query(name: string, sql: string, params: readonly unknown[]): Promise<pg.QueryResult> {
    if (this.done) throw new Error("This transaction has ended");
    return this.client.query({ name, text: sql, values: pgValues(params), types: this.types });
  }

}

// Process-wide: Next.js bundles its own copy of this module for the dashboard, which gets the runtime
// (and its Prisma client) that server.ts opened and registered; a module-local map would be empty there.
const REGISTRY = Symbol.for("talon.hotSql");
const g = globalThis as typeof globalThis & { [REGISTRY]?: WeakMap<object, HotSql> };
const registry = (g[REGISTRY] ??= new WeakMap<object, HotSql>());

/**
 * Call with the adapter factory (./sqlite-adapter's) *before* handing it to PrismaClient, then
 * `register(db)` with the client.
 */
export function trackSqlite(factory: AdapterFactory): { register(db: PrismaLike): void } {
  const conns = new Connections<SqliteConnections>(factory, (adapter) => adapter as SqliteConnections);
  return {
    register(db) {
      conns.db = db;
      registry.set(db, new SqliteHot(conns));
    },
  };
}

/** As trackSqlite, for PostgreSQL: the pool of the adapter Prisma has open (`current()`, e.g. for pool stats). */
export function trackPostgres(factory: AdapterFactory, pgTypes: typeof pg.types): { register(db: PrismaLike): void; current(): pg.Pool | null } {
  const conns = new Connections<pg.Pool>(factory, (adapter) => (adapter as { client: pg.Pool }).client);
  return {
    register(db) {
      conns.db = db;
      registry.set(db, new PostgresHot(conns, pgTypes));
    },
    current: () => conns.current,
  };
}

/** The driver-level handle of a client opened by `openDatabase`. */
export function hotSql(db: object): HotSql {
  const h = registry.get(db);
  if (!h) throw new Error("No driver handle for this database client (open it with openDatabase)");
  return h;
}
