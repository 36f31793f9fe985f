import type BetterSqlite3 from "better-sqlite3";
import type pg from "pg";

/** A Prisma client, structurally (so ./index can import this file without an import cycle). */
type Db = object;
type TxRunner = { $transaction<T>(fn: () => Promise<T>): Promise<T> };
type Dialect = "sqlite" | "postgres";

/**
 * The hot path's way to the database: the drivers themselves, without Prisma's client, query compiler
 * and adapter (≈ 40 % of a secret read's CPU in the issue-10 profile). Statements are written once in
 * PostgreSQL's `$1, $2…` form and run unchanged there as named prepared statements (prepared once per
 * pooled connection by `pg`); on SQLite the same text is rewritten to positional `?` once and prepared
 * once on the connection Prisma's adapter opened, then reused. Rows come back as plain objects whose
 * values differ by driver (SQLite: epoch-ms numbers for DateTime, 0/1 for Boolean, Buffer for Bytes;
 * PostgreSQL: Date, boolean, Buffer); each domain's repo.ts normalises them.
 *
 * Prisma stays the schema, the migrations and every cold path; the queries here are read-only or one
 * conditional UPDATE, named by the repo that owns them (`secrets.read`, `auth.agentJwt`, …).
 */
export type HotRow = Record<string, unknown>;

export interface HotSql {
  readonly dialect: Dialect;
  /** Every row of a SELECT. `name` identifies the statement (unique per SQL text). */
  all(name: string, sql: string, params: readonly unknown[]): Promise<HotRow[]>;
  /** A write outside any transaction; resolves with the number of rows it changed. */
  run(name: string, sql: string, params: readonly unknown[]): Promise<number>;
}

type Prepared = { stmt: BetterSqlite3.Statement; order: number[] };

/** `$1 … $n` → `?` in order of appearance, with the parameter index each `?` takes. */
function positional(sql: string): { sql: string; order: number[] } {
  const order: number[] = [];
  const text = sql.replace(/\$(\d+)/g, (_m, n: string) => {
    order.push(Number(n) - 1);
    return "?";
  });
  return { sql: text, order };
}

class SqliteHot implements HotSql {
  readonly dialect = "sqlite" as const;
  private readonly prepared = new Map<string, Prepared>();

  constructor(
    private readonly conn: BetterSqlite3.Database,
    private readonly db: Db,
  ) {}

  private statement(name: string, sql: string): Prepared {
    let p = this.prepared.get(name);
    if (!p) {
      const { sql: text, order } = positional(sql);
      const stmt = this.conn.prepare(text);
      // Epoch-ms timestamps and counters fit in a double; the connection's default is BigInt.
      if (stmt.reader) stmt.safeIntegers(false);
      p = { stmt, order };
      this.prepared.set(name, p);
    }
    return p;
  }

  private bind(p: Prepared, params: readonly unknown[]): unknown[] {
    return p.order.map((i) => {
      const v = params[i];
      if (v instanceof Date) return v.getTime();
      if (typeof v === "boolean") return v ? 1 : 0;
      return v;
    });
  }

  all(name: string, sql: string, params: readonly unknown[]): Promise<HotRow[]> {
    try {
      const p = this.statement(name, sql);
      return Promise.resolve(p.stmt.all(...this.bind(p, params)) as HotRow[]);
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  async run(name: string, sql: string, params: readonly unknown[]): Promise<number> {
    // One connection serves Prisma too: while one of its interactive transactions is open, a write
    // here would land inside it (and roll back with it). Wait for that transaction through Prisma's
    // own queue instead; otherwise the statement is its own implicit transaction, run synchronously.
    if (this.conn.inTransaction) {
      return (this.db as TxRunner).$transaction(async () => {
        const p = this.statement(name, sql);
        return p.stmt.run(...this.bind(p, params)).changes;
      });
    }
    const p = this.statement(name, sql);
    return p.stmt.run(...this.bind(p, params)).changes;
  }
}

/** `timestamp(3)` without time zone holds UTC (as Prisma writes it); pg would read it as local time. */
const TIMESTAMP_OID = 1114;
const utcTimestamp = (s: string) => new Date(`${s.replace(" ", "T")}Z`);

class PostgresHot implements HotSql {
  readonly dialect = "postgres" as const;
  private readonly types: { getTypeParser: (oid: number, format?: string) => (v: string) => unknown };

  constructor(
    private readonly pool: pg.Pool,
    pgTypes: typeof pg.types,
  ) {
    this.types = {
      getTypeParser: (oid: number, format?: string) =>
        oid === TIMESTAMP_OID ? utcTimestamp : (pgTypes.getTypeParser(oid, (format ?? "text") as "text") as (v: string) => unknown),
    };
  }

  async all(name: string, sql: string, params: readonly unknown[]): Promise<HotRow[]> {
    const r = await this.pool.query({ name, text: sql, values: params as unknown[], types: this.types });
    return r.rows as HotRow[];
  }

  async run(name: string, sql: string, params: readonly unknown[]): Promise<number> {
    const r = await this.pool.query({ name, text: sql, values: params as unknown[], types: this.types });
    return r.rowCount ?? 0;
  }
}

// Process-wide: Next.js bundles its own copy of this module for the dashboard, which gets the runtime
// (and its Prisma client) that server.ts opened and registered; a module-local map would be empty there.
const REGISTRY = Symbol.for("talon.hotSql");
const g = globalThis as typeof globalThis & { [REGISTRY]?: WeakMap<object, HotSql> };
const registry = (g[REGISTRY] ??= new WeakMap<object, HotSql>());

export function registerSqliteHot(db: Db, conn: BetterSqlite3.Database): void {
  registry.set(db, new SqliteHot(conn, db));
}

export function registerPostgresHot(db: Db, pool: pg.Pool, pgTypes: typeof pg.types): void {
  registry.set(db, new PostgresHot(pool, pgTypes));
}

/** The driver-level handle of a client opened by `openDatabase`. */
export function hotSql(db: object): HotSql {
  const h = registry.get(db);
  if (!h) throw new Error("No driver handle for this database client (open it with openDatabase)");
  return h;
}
