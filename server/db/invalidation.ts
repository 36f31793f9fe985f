import pg from "pg";
import { type AtOnce, asPromise } from "../../lib/at-once";
import { log } from "../log";
import { sqliteFileOf } from "./sqlite-owner";

/**
 * Invalidation of the in-process caches of principal state, policies, IP rules and hosted MCP's vault
 * check (issue 10): one generation per database client, which every write to a table those lookups
 * read bumps. A cached value is stamped with the generation its fill started at and used only while
 * the generation is unchanged, so a change is seen by the next lookup after the bump.
 *
 * One generation per database, not per org: this instance's bump comes from the statement text
 * Prisma's adapter runs (`watchWrites`), which names the table but not the org (a DELETE by id, a
 * cascade from Org or Vault), and a per-org payload would only help the remote half. Cost: any
 * principal or policy change empties every org's entries on this instance.
 *
 * - This instance: the adapter's statements are classified by their first words; a write to a watched
 *   table bumps after it ran, and a transaction that ran one bumps again after its COMMIT/ROLLBACK
 *   (a fill that read pre-commit data is then never used).
 * - Other instances (PostgreSQL): AFTER statement triggers on the watched tables run
 *   `pg_notify('talon_cache', '')` (migration 20261204140000_cache_invalidation), delivered at commit;
 *   every instance LISTENs on one dedicated connection and bumps on each notification. Until that
 *   connection is up, and whenever it is lost, `stamp()` is null: the caches are bypassed (every
 *   lookup queries the database, as without caches) until it has reconnected and bumped.
 * - SQLite: one Talon process per database file (the write gate and these caches are per process);
 *   a change made by another process is seen only when an entry reaches its maximum age.
 * - Clients opened in one process on the same database (tests' twin instances, the dashboard's) share
 *   one generation and one listener (`acquireInvalidation`), so they see each other's writes at once.
 *
 * Writes the hot path (./hot.ts) makes on the drivers directly are not seen by `watchWrites`. The only
 * ones to a watched table are the advisory activity columns (Agent.lastActiveAt, ApiKey.lastUsedAt:
 * server/identity/activity.ts), which no cached decision reads, so they must not invalidate; on
 * PostgreSQL the update triggers skip a change to those columns alone and see every other driver write.
 */
export class Invalidation {
  private gen = 0;

  constructor(private healthy: boolean) {}

  /** The generation a cache fill starts at, or null when caches must not be used. */
  stamp(): number | null {
    return this.healthy ? this.gen : null;
  }

  /** Whether a value stamped `stamp` is still current. */
  current(stamp: number): boolean {
    return this.healthy && stamp === this.gen;
  }

  bump(): void {
    this.gen++;
  }

  setHealthy(healthy: boolean): void {
    this.gen++;
    this.healthy = healthy;
  }
}

// On globalThis like hot.ts's registry, so Next.js's bundled copy of this module finds the same one.
const REGISTRY = Symbol.for("talon.invalidation");
const g = globalThis as typeof globalThis & { [REGISTRY]?: WeakMap<object, Invalidation> };
const registry = (g[REGISTRY] ??= new WeakMap<object, Invalidation>());

type Shared = { inv: Invalidation; refs: number; listener: Promise<Listener> | null };
const SHARED = Symbol.for("talon.invalidationShared");
const gs = globalThis as typeof globalThis & { [SHARED]?: Map<string, Shared> };
const shared = (gs[SHARED] ??= new Map<string, Shared>());

/**
 * The invalidation of the database at `url` in this process (one per SQLite file, per PostgreSQL URL),
 * with its listener on PostgreSQL; `release` when the client closes (the last one stops the listener).
 */
export async function acquireInvalidation(url: string): Promise<{ inv: Invalidation; release(): Promise<void> }> {
  const postgres = !url.startsWith("file:");
  const key = postgres ? url : sqliteFileOf(url);
  let s = shared.get(key);
  if (!s) {
    const inv = new Invalidation(!postgres);
    s = { inv, refs: 0, listener: postgres ? listenForInvalidations(url, inv) : null };
    shared.set(key, s);
  }
  s.refs++;
  const entry = s;
  await entry.listener;
  let released = false;
  return {
    inv: entry.inv,
    async release() {
      if (released) return;
      released = true;
      if (--entry.refs > 0) return;
      if (shared.get(key) === entry) shared.delete(key);
      await (await entry.listener)?.close();
    },
  };
}

export function registerInvalidation(db: object, inv: Invalidation): void {
  registry.set(db, inv);
}

/** The invalidation of a client opened by openDatabase; undefined (caches bypassed) for any other. */
export function invalidationOf(db: object): Invalidation | undefined {
  return registry.get(db);
}

/** Tables the principal, policy and IP-rule lookups read; any write to them invalidates. */
const WATCHED = new Set(["Agent", "User", "ApiKey", "RevokedToken", "Policy", "IpRule"]);
/**
 * Tables whose deleted rows cascade into watched ones (Org → User, Agent, IpRule, Vault; Vault → Policy).
 * A deleted vault is also what hosted MCP's cached vault check (server/mcp/repo.ts) must see.
 */
const CASCADING = new Set(["Org", "Vault"]);
const QUIET = /^\s*(?:SELECT|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|SHOW|PRAGMA|LISTEN|EXPLAIN)\b/i;
/** The statement's kind and its table, schema-qualified or not, quoted with "", `` or [] (Prisma's SQLite SQL uses ``). */
const DML = /^\s*(INSERT|REPLACE|UPDATE|DELETE)\s+(?:OR\s+\w+\s+)?(?:INTO\s+|FROM\s+)?(?:["`[]?\w+["`\]]?\s*\.\s*)?["`[]?(\w+)/i;

/** Whether a statement may change what the cached lookups read (anything unrecognised counts). */
export function invalidates(sql: string): boolean {
  const head = sql.length > 120 ? sql.slice(0, 120) : sql;
  if (QUIET.test(head)) return false;
  const m = DML.exec(head);
  if (!m) return true;
  const table = m[2]!;
  if (WATCHED.has(table)) return true;
  return CASCADING.has(table) && m[1]!.toUpperCase() === "DELETE";
}

type Query = { sql: string };
type Queryable = {
  queryRaw(q: Query): Promise<unknown>;
  executeRaw(q: Query): Promise<number>;
};
type TransactionLike = Queryable & { commit(): Promise<void>; rollback(): Promise<void> };
type AdapterLike = Queryable & { executeScript(script: string): Promise<void>; startTransaction(isolationLevel?: never): Promise<TransactionLike> };
type FactoryLike = { connect(): Promise<unknown> };

/**
 * Hooks every adapter `factory` connects (start-up and each reconnect): statements that `invalidates`
 * bump `inv` after they ran, and a transaction that ran one bumps again after it ended. The adapter
 * object itself is kept (its methods are wrapped in place), so whatever else holds it (./hot.ts) still
 * finds its driver objects. Call after trackSqlite/trackPostgres.
 */
export function watchWrites(factory: FactoryLike, inv: Invalidation): void {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = (await connect()) as AdapterLike;
    wrapQueryable(adapter, inv, () => {});
    const executeScript = adapter.executeScript.bind(adapter);
    adapter.executeScript = (script) => executeScript(script).finally(() => inv.bump());
    const startTransaction = adapter.startTransaction.bind(adapter);
    adapter.startTransaction = async (isolationLevel) => {
      const tx = await startTransaction(isolationLevel);
      let dirty = false;
      wrapQueryable(tx, inv, () => (dirty = true));
      const commit = tx.commit.bind(tx);
      const rollback = tx.rollback.bind(tx);
      const end = () => {
        if (dirty) inv.bump();
      };
      tx.commit = () => commit().finally(end);
      tx.rollback = () => rollback().finally(end);
      return tx;
    };
    return adapter;
  };
}

function wrapQueryable(q: Queryable, inv: Invalidation, touched: () => void): void {
  const queryRaw = q.queryRaw.bind(q);
  const executeRaw = q.executeRaw.bind(q);
  const after = (sql: string) => () => {
    if (invalidates(sql)) {
      touched();
      inv.bump();
    }
  };
  q.queryRaw = (query) => queryRaw(query).finally(after(query.sql));
  q.executeRaw = (query) => executeRaw(query).finally(after(query.sql));
}

/** The channel the migration's triggers notify on. */
export const CHANNEL = "talon_cache";
/** The listener connection's application_name (visible in pg_stat_activity). */
export const LISTENER_APPLICATION_NAME = "talon-cache-listener";

export type Listener = { close(): Promise<void> };

/**
 * PostgreSQL: one dedicated connection that LISTENs on CHANNEL and bumps `inv` on each notification.
 * `inv` is healthy only while that connection is up: on an error or end it is marked unhealthy at once
 * and reconnected with backoff (0.1 s doubling to 5 s); once LISTENing again it bumps and is healthy.
 * Resolves after the first attempt (a failed one keeps retrying in the background).
 */
export async function listenForInvalidations(url: string, inv: Invalidation): Promise<Listener> {
  let closed = false;
  let client: pg.Client | null = null;
  let delay = 100;
  let timer: NodeJS.Timeout | null = null;

  const lost = (c: pg.Client) => {
    if (client !== c) return;
    client = null;
    inv.setHealthy(false);
    c.end().catch(() => {});
    if (closed) return;
    log.warn("cache invalidation listener lost; caches bypassed until it reconnects");
    schedule();
  };
  const schedule = () => {
    timer = setTimeout(() => {
      timer = null;
      void attempt();
    }, delay);
    timer.unref();
    delay = Math.min(delay * 2, 5_000);
  };
  const attempt = async () => {
    const c = new pg.Client({ connectionString: url, application_name: LISTENER_APPLICATION_NAME, keepAlive: true });
    c.on("notification", (n) => {
      if (n.channel === CHANNEL) inv.bump();
    });
    c.on("error", () => lost(c));
    c.on("end", () => lost(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
    } catch {
      c.end().catch(() => {});
      if (!closed) schedule();
      return;
    }
    if (closed) {
      await c.end().catch(() => {});
      return;
    }
    client = c;
    delay = 100;
    inv.setHealthy(true);
  };

  await attempt();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = null;
      inv.setHealthy(false);
      if (c) await c.end().catch(() => {});
    },
  };
}

/**
 * A bounded cache of lookup results valid for one generation of `invalidationOf(db)` and at most
 * `maxAgeMs`. Full: emptied (a refill costs one query per key). A fill is stored only if the generation
 * did not change while it ran. `undefined` results are never stored.
 */
export class GenerationCache<V> {
  private readonly byDatabase = new WeakMap<Invalidation, Map<string, { value: V; stamp: number; at: number }>>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly maxAgeMs = 30_000,
  ) {}

  /** `lookup`, always as a promise (a hit's already settled). */
  get(db: object, key: string, load: () => Promise<V>): Promise<V> {
    return asPromise(this.lookup(db, key, load));
  }

  /**
   * The value cached for `key`, at once (no promise, no turn of the event loop: the hot path makes
   * several lookups a request, each awaited only when it has to load), or the promise of `load`'s.
   */
  lookup(db: object, key: string, load: () => Promise<V>): AtOnce<V> {
    const inv = invalidationOf(db);
    const stamp = inv?.stamp() ?? null;
    if (inv === undefined || stamp === null) return load();
    let entries = this.byDatabase.get(inv);
    if (!entries) this.byDatabase.set(inv, (entries = new Map()));
    const now = Date.now();
    const e = entries.get(key);
    if (e !== undefined) {
      if (inv.current(e.stamp) && now - e.at < this.maxAgeMs) return e.value;
      entries.delete(key);
    }
    return this.fill(inv, entries, key, stamp, now, load);
  }

  private async fill(inv: Invalidation, entries: Map<string, { value: V; stamp: number; at: number }>, key: string, stamp: number, now: number, load: () => Promise<V>): Promise<V> {
    const value = await load();
    if (value !== undefined && inv.current(stamp)) {
      if (entries.size >= this.maxEntries) entries.clear();
      entries.set(key, { value, stamp, at: now });
    }
    return value;
  }
}
