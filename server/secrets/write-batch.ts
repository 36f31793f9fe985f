import { appendAuditRows, type AuditRowInput } from "../audit/chain";
import type { Db, Dialect, Tx } from "../db";
import { ApiError } from "../http/errors";
import { lockSecretPath } from "./repo";

/**
 * Group commit for secret versions: the writes that arrive while a batch is committing go together in
 * the next one — one transaction, one audit-chain append for all their events — and each caller is
 * answered only after that transaction has committed, so a 201 still means the version and its audit
 * event are durable. What one write sees and does is what it would in a transaction of its own:
 *
 * 1. the batch first takes every path's lock (PostgreSQL: advisory locks in sorted order, so two
 *    batches or two instances cannot deadlock on them; SQLite: the database write lock), then
 * 2. runs its writes one after another: each one's checks (`check`: reads, then a domain refusal such as
 *    a plan limit or a changed customer key) see the rows the writes before it in the batch left, and
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
  check(tx: Tx): Promise<(tx: Tx) => Promise<{ result: T; audit: AuditRowInput }>>;
};

type Pending = { write: BatchedWrite<unknown>; resolve(v: unknown): void; reject(e: unknown): void };

/** Writes per transaction: enough to amortise the commit and the chain append, small enough to keep a batch short. */
const MAX_BATCH = 64;

class SecretWriteBatcher {
  private queue: Pending[] = [];
  private running = false;

  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

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
      outcomes = await this.db.$transaction((tx) => this.apply(tx, batch));
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

  private async apply(tx: Tx, batch: Pending[]) {
    if (this.dialect === "postgres") {
      const keys = [...new Set(batch.map((p) => JSON.stringify([p.write.vaultId, p.write.path])))].sort();
      for (const k of keys) {
        const [vaultId, path] = JSON.parse(k) as [string, string];
        await lockSecretPath(tx, this.dialect, vaultId, path);
      }
    } else {
      await lockSecretPath(tx, this.dialect, batch[0]!.write.vaultId, batch[0]!.write.path);
    }
    const audit: AuditRowInput[] = [];
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    for (const p of batch) {
      let write;
      try {
        write = await p.write.check(tx);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        outcomes.push({ ok: false, error: e });
        continue;
      }
      const done = await write(tx);
      audit.push(done.audit);
      outcomes.push({ ok: true, value: done.result });
    }
    if (audit.length) await appendAuditRows(tx, audit);
    return outcomes;
  }
}

/** One batcher per database client, on globalThis: Next.js's bundled copy of this module must share it. */
const REGISTRY = Symbol.for("talon.secretWriteBatchers");
type Registry = WeakMap<Db, SecretWriteBatcher>;
const registry = ((globalThis as Record<symbol, unknown>)[REGISTRY] ??= new WeakMap()) as Registry;

/** Runs `write` in the next batch of `db`'s secret writes; resolves once that batch has committed. */
export function writeInBatch<T>(rt: { db: Db; dialect: Dialect }, write: BatchedWrite<T>): Promise<T> {
  let b = registry.get(rt.db);
  if (!b) registry.set(rt.db, (b = new SecretWriteBatcher(rt.db, rt.dialect)));
  return b.submit(write);
}
