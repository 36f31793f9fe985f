import type { AuditRowInput } from "../audit/chain";
import { appendAuditRowsOn, StatementAppend } from "../audit/repo";
import { type CmekState, readCmekState } from "../cmek/state";
import type { Db } from "../db";
import { type HotTx, hotSql } from "../db/hot";
import { ApiError } from "../http/errors";
import {
  type CurrentSecretRow,
  findCurrentForWrite,
  lockAndReadForWrite,
  type NewVersionRow,
  type ReadForWrite,
  type SecretHeadWrite,
  secretPathKey,
  writeSecretVersions,
} from "./repo";

/**
 * Group commit for secret versions: the writes that arrive while a batch is committing go together in
 * the next one — one transaction, one audit-chain append for all their events — and each caller is
 * answered only after that transaction has committed, so a 201 still means the version and its audit
 * event are durable. The transaction is the drivers' (server/db/hot.ts), its statements prepared once.
 * What one write sees and does is what it would in a transaction of its own:
 *
 * 1. the batch first takes every path's lock (PostgreSQL: advisory locks in sorted order, so two
 *    batches or two instances cannot deadlock on them; SQLite: the database write lock, held from
 *    BEGIN IMMEDIATE), then
 * 2. runs its writes one after another: each one's checks (`check`: reads, then a domain refusal such as
 *    a plan limit or a changed customer key) see the rows the writes before it in the batch left (a read
 *    no write of the batch can change, such as a locked vault row, may be shared: `BatchScope.once`), and
 * 3. appends the successful writes' audit events in their order, then commits.
 *
 * A write records its new version through the scope (`BatchScope.putVersion`) instead of writing it at
 * once: the batch writes them all together — on PostgreSQL one `unnest` statement for the secret rows
 * and one for the versions, instead of two round trips per write — before the audit append, and the
 * scope's `current` answers the later writes of the batch with what the earlier ones recorded. Any
 * statement a check or write runs on its `tx` first writes what is pending (and forgets the heads read
 * so far when it is a write), so every read still sees the batch's earlier writes. On PostgreSQL a batch
 * is three round trips: BEGIN with its first statement, the path locks and then the heads of all its
 * paths and the CMEK state of its vaults; the pending rows written and, by the same statement, the
 * events chained and appended under the chain's locks; COMMIT.
 *
 * A refusal in `check` (an ApiError, thrown before that write changed anything) fails that write alone.
 * Anything else (a database error, a constraint) rolls the whole batch back and its writes are retried
 * one transaction each, so one bad write can only fail itself.
 */
export type BatchedWrite<T> = {
  vaultId: string;
  path: string;
  /** Reads and domain checks only; returns the write, which must not throw ApiError. */
  check(tx: HotTx, batch: BatchScope): Promise<(tx: HotTx, batch: BatchScope) => Promise<{ result: T; audit: AuditRowInput }>>;
};

/** What the writes of one batch share. */
export type BatchScope = {
  /** Runs `read` for the first write that asks and gives every later one its result (or its refusal). */
  once<R>(key: string, read: () => Promise<R>): Promise<R>;
  /** The vault's CMEK state in this transaction (server/cmek/state.ts's readCmekState: on PostgreSQL the row stays share-locked), read once per batch. */
  cmekState(vaultId: string): Promise<CmekState>;
  /** The secret at `path` and its latest version's type and metadata, as the batch's earlier writes left it (after its path lock). */
  current(vaultId: string, path: string): Promise<CurrentSecretRow | null>;
  /** A new version: its secret row (created or moved to it) and its version row, written with the batch's others before its audit append. */
  putVersion(head: SecretHeadWrite, version: NewVersionRow): void;
};

/** One batch's shared reads, its heads and its pending version writes; `tx` is the batch's transaction for checks and writes (see above). */
class BatchState implements BatchScope {
  private readonly reads = new Map<string, Promise<unknown>>();
  private readonly heads = new Map<string, CurrentSecretRow | null>();
  private pendingHeads = new Map<string, SecretHeadWrite>();
  private pendingVersions: NewVersionRow[] = [];
  private flushing: Promise<void> = Promise.resolve();
  readonly tx: HotTx;

  constructor(private readonly raw: HotTx) {
    this.tx = {
      dialect: raw.dialect,
      all: async (name, sql, params) => {
        await this.flush();
        return raw.all(name, sql, params);
      },
      get: async (name, sql, params) => {
        await this.flush();
        return raw.get(name, sql, params);
      },
      run: async (name, sql, params) => {
        await this.flush();
        // A write the scope did not record may move any head: read them again.
        this.heads.clear();
        return raw.run(name, sql, params);
      },
      runEach: async (name, sql, paramLists) => {
        await this.flush();
        this.heads.clear();
        return raw.runEach(name, sql, paramLists);
      },
    };
  }

  /** PostgreSQL: what the batch's opening statement read (lockAndReadForWrite), for all its paths. */
  prefetched(paths: readonly { vaultId: string; path: string }[], found: ReadForWrite): void {
    for (const p of paths) {
      const k = secretPathKey(p.vaultId, p.path);
      this.heads.set(k, found.heads.get(k) ?? null);
    }
    for (const [vaultId, state] of found.cmek) this.reads.set(cmekKey(vaultId), Promise.resolve(state));
  }

  cmekState(vaultId: string): Promise<CmekState> {
    return this.once(cmekKey(vaultId), () => readCmekState(this.tx, vaultId));
  }

  once<R>(key: string, read: () => Promise<R>): Promise<R> {
    let p = this.reads.get(key) as Promise<R> | undefined;
    if (!p) this.reads.set(key, (p = read()));
    return p;
  }

  async current(vaultId: string, path: string): Promise<CurrentSecretRow | null> {
    const k = secretPathKey(vaultId, path);
    if (this.heads.has(k)) return this.heads.get(k)!;
    // Not recorded by this batch (that would have set it), so nothing pending changes this path's rows.
    await this.flushing;
    const r = await findCurrentForWrite(this.raw, vaultId, path);
    this.heads.set(k, r);
    return r;
  }

  putVersion(head: SecretHeadWrite, version: NewVersionRow): void {
    // One row write per secret: a secret created earlier in this batch stays an insert, with the latest head.
    const earlier = this.pendingHeads.get(head.id);
    this.pendingHeads.set(head.id, earlier ? { ...head, exists: earlier.exists } : head);
    this.pendingVersions.push(version);
    this.heads.set(secretPathKey(head.vaultId, head.path), {
      id: head.id,
      currentVersion: head.version,
      deletedAt: null,
      rotationPolicy: head.rotation.rotationPolicy,
      type: version.type,
      metadata: version.metadata,
    });
  }

  /**
   * Writes what is pending (secret rows first: the versions reference them); resolves once every earlier
   * flush is done. `append` (PostgreSQL only): when there were writes to make, the same statement then makes it
   * (the audit events chained and inserted under the chain's locks), and this resolves with what it
   * answered, for `append.finish`; else with null, and the events are still to append.
   */
  async flush(append?: StatementAppend): Promise<unknown[][] | null> {
    let appended: Promise<unknown[][] | null> | null = null;
    if (this.pendingVersions.length) {
      const heads = [...this.pendingHeads.values()];
      const versions = this.pendingVersions;
      this.pendingHeads = new Map();
      this.pendingVersions = [];
      const before = this.flushing;
      const written = (async () => {
        await before;
        return writeSecretVersions(this.raw, heads, versions, append);
      })();
      this.flushing = written.then(() => undefined);
      if (append) appended = written;
    }
    await this.flushing;
    return appended;
  }
}

const cmekKey = (vaultId: string) => `cmek:${vaultId}`;

type Pending = { write: BatchedWrite<unknown>; resolve(v: unknown): void; reject(e: unknown): void };

/** Writes per transaction: enough to amortise the commit and the chain append, small enough to keep a batch short. */
const MAX_BATCH = 64;

class SecretWriteBatcher {
  private queue: Pending[] = [];
  private running = false;

  constructor(private readonly db: Db) {}

  submit<T>(write: BatchedWrite<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (v: unknown) => void, reject });
      // The next turn of the event loop, so the writes of requests parsed together share a batch.
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain() {
    try {
      while (this.queue.length) await this.commit(this.queue.splice(0, MAX_BATCH));
    } finally {
      this.running = false;
    }
  }

  private async commit(batch: Pending[]) {
    let outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[];
    try {
      // PostgreSQL: the path locks and the reads they guard go with the BEGIN (SQLite's BEGIN IMMEDIATE
      // holds the write lock; it reads each head when asked).
      const sql = hotSql(this.db);
      const paths = batch.map((p) => p.write);
      const prefetch = sql.dialect === "postgres" ? lockAndReadForWrite(paths, [...new Set(paths.map((p) => p.vaultId))]) : null;
      outcomes = await sql.transaction("secrets.writeBatch", (tx, opened) => this.apply(tx, batch, prefetch && prefetch.read(opened)), prefetch?.opening);
    } catch (e) {
      if (batch.length === 1) {
        batch[0]!.reject(e);
        return;
      }
      // Which write broke the batch is unknown: each goes again in a transaction of its own.
      for (const p of batch) await this.commit([p]);
      return;
    }
    outcomes.forEach((o, i) => (o.ok ? batch[i]!.resolve(o.value) : batch[i]!.reject(o.error)));
  }

  private async apply(tx: HotTx, batch: Pending[], found: ReadForWrite | null) {
    const scope = new BatchState(tx);
    if (found) scope.prefetched(batch.map((p) => p.write), found);
    const audit: AuditRowInput[] = [];
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    for (const p of batch) {
      let write;
      try {
        write = await p.write.check(scope.tx, scope);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        outcomes.push({ ok: false, error: e });
        continue;
      }
      const done = await write(scope.tx, scope);
      audit.push(done.audit);
      outcomes.push({ ok: true, value: done.result });
    }
    // PostgreSQL: the events are chained and appended by the batch's last write statement, when it has
    // one, so the chain's lock is held from there to COMMIT only; else (and on SQLite) appended here.
    const append = audit.length && tx.dialect === "postgres" ? new StatementAppend(audit) : undefined;
    const appended = await scope.flush(append);
    if (append && appended) await append.finish(tx, appended);
    else if (audit.length) await appendAuditRowsOn(tx, audit);
    return outcomes;
  }
}

/** One batcher per database client, on globalThis: Next.js's bundled copy of this module must share it. */
const REGISTRY = Symbol.for("talon.secretWriteBatchers");
type Registry = WeakMap<Db, SecretWriteBatcher>;
const registry = ((globalThis as Record<symbol, unknown>)[REGISTRY] ??= new WeakMap()) as Registry;

/** Runs `write` in the next batch of `db`'s secret writes; resolves once that batch has committed. */
export function writeInBatch<T>(rt: { db: Db }, write: BatchedWrite<T>): Promise<T> {
  let b = registry.get(rt.db);
  if (!b) registry.set(rt.db, (b = new SecretWriteBatcher(rt.db)));
  return b.submit(write);
}
