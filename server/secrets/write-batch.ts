import type { AuditRowInput } from "../audit/chain";
import { appendAuditRowsOn } from "../audit/repo";
import type { Db } from "../db";
import { type HotTx, hotSql } from "../db/hot";
import { ApiError } from "../http/errors";
import { lockSecretPaths } from "./repo";

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
 * A refusal in `check` (an ApiError, thrown before that write changed anything) fails that write alone.
 * Anything else (a database error, a constraint) rolls the whole batch back and its writes are retried
 * one transaction each, so one bad write can only fail itself.
 */
export type BatchedWrite<T> = {
  vaultId: string;
  path: string;
  /** Reads and domain checks only; returns the write, which must not throw ApiError. */
  check(tx: HotTx, batch: BatchScope): Promise<(tx: HotTx) => Promise<{ result: T; audit: AuditRowInput }>>;
};

/** What the writes of one batch share: `once(key, read)` runs `read` for the first write that asks and gives every later one its result (or its refusal). */
export type BatchScope = { once<R>(key: string, read: () => Promise<R>): Promise<R> };

function batchScope(): BatchScope {
  const reads = new Map<string, Promise<unknown>>();
  return {
    once<R>(key: string, read: () => Promise<R>): Promise<R> {
      let p = reads.get(key) as Promise<R> | undefined;
      if (!p) reads.set(key, (p = read()));
      return p;
    },
  };
}

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
      outcomes = await hotSql(this.db).transaction("secrets.writeBatch", (tx) => this.apply(tx, batch));
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

  private async apply(tx: HotTx, batch: Pending[]) {
    await lockSecretPaths(tx, batch.map((p) => p.write));
    const audit: AuditRowInput[] = [];
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    const scope = batchScope();
    for (const p of batch) {
      let write;
      try {
        write = await p.write.check(tx, scope);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        outcomes.push({ ok: false, error: e });
        continue;
      }
      const done = await write(tx);
      audit.push(done.audit);
      outcomes.push({ ok: true, value: done.result });
    }
    if (audit.length) await appendAuditRowsOn(tx, audit);
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
