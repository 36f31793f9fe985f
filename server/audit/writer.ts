import type { Db } from "../db";
import type { Metrics } from "../metrics";
import { hotSql } from "../db/hot";
import { timeOrderedId } from "../db/ids";
import { appendAuditRowsOn, appendGuessed, ChainGuesses } from "./repo";
import { type Principal, principalRef } from "../http/principals";

/** What the writer reads of a request's Ctx/PublicCtx (structural: the runtime builds the writer). */
type RequestCtx = { requestId: string; ip: string };
type Ctx = RequestCtx & { principal: Principal };
type PublicCtx = RequestCtx;

export type AuditInput = {
  action: string;
  resourceType: string;
  resourceId: string;
  /** Non-secret facts only (paths, versions, ids). Never a value, key, password or token. */
  details?: Record<string, string | number | boolean | null>;
};

type AuditActor = { orgId: string; actorId: string; actorType: "user" | "agent" | "anonymous" | "system" };

export function actorOf(ctx: Ctx): AuditActor {
  return { orgId: ctx.principal.orgId, actorId: principalRef(ctx.principal), actorType: ctx.principal.kind };
}

/** The row for an audit event; services pass it to `appendAudit(tx, row)` (./chain) inside their own transaction. */
export function auditRow(ctx: Ctx | PublicCtx, input: AuditInput, actor: AuditActor = actorOf(ctx as Ctx)) {
  const createdAt = new Date();
  return {
    id: timeOrderedId(createdAt.getTime()),
    orgId: actor.orgId,
    actorId: actor.actorId,
    actorType: actor.actorType,
    action: input.action,
    resourceType: input.resourceType,
    resourceId: input.resourceId,
    details: JSON.stringify(input.details ?? {}),
    ipAddress: ctx.ip,
    requestId: ctx.requestId,
    createdAt,
  };
}

type Row = ReturnType<typeof auditRow>;

/**
 * Group commit for events that record a read (no change of their own to share a transaction with):
 * queued rows are chained and inserted in one transaction, and each caller's promise resolves only
 * once that transaction has committed — a response never goes out before its audit event is durable,
 * and if the insert fails every waiting request fails with it (fail closed).
 *
 * When to flush: as soon as no request in progress could still add a row (the queue holds at least as
 * many rows as `requestStarted`/`requestEnded` count requests in progress), at the next turn of the event
 * loop — so requests parsed together share a batch, and a lone request does not wait; otherwise within
 * `flushMs` of the first queued row, or at once when `maxBatch` rows wait. Under the bench's 32
 * connections the batches stay as large as with the window alone (≈ 20 events, logged per flush), while a
 * client alone no longer waits the window out on every read (≈ 3 ms with the timer's granularity).
 */
export class AuditWriter {
  private queue: { row: Row; resolve(): void; reject(e: unknown): void }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  /** Requests in progress that may still queue a row (see requestStarted). */
  private inProgress = 0;
  private flushing: Promise<void> = Promise.resolve();
  /** For readiness (server/health): when the batch in flight started, and when one last committed. */
  private flushingSince: number | null = null;
  private lastFlushOkAt: number | null = null;
  /** PostgreSQL: the chain heads and webhooks this writer last saw, for appendGuessed. */
  private readonly guesses = new ChainGuesses();

  constructor(
    private readonly db: Db,
    private readonly flushMs: number,
    private readonly metrics?: Metrics,
    private readonly maxBatch = 500,
  ) {
    metrics?.watchAuditQueue(() => this.queue.length);
  }

  record(ctx: Ctx | PublicCtx, input: AuditInput, actor?: AuditActor): Promise<void> {
    return this.enqueue(auditRow(ctx, input, actor));
  }

  /**
   * A request from the network has started: until `requestEnded`, a flush may wait (up to `flushMs`) for
   * its row. Requests made in process (hosted MCP's tool calls) are part of the request that made them.
   */
  requestStarted(): void {
    this.inProgress++;
  }

  requestEnded(): void {
    this.inProgress--;
    // The request that ended may have been the one the queued rows were waiting for.
    this.schedule();
  }

  private enqueue(row: Row): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      this.schedule();
    });
  }

  /** Flush at the next turn when nothing else could join the batch (or it is full), else within flushMs. */
  private schedule() {
    if (this.queue.length === 0) return;
    if (this.queue.length >= this.maxBatch || this.queue.length >= this.inProgress) {
      if (this.immediate) return;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.immediate = setImmediate(() => {
        this.immediate = null;
        this.startFlush();
      });
    } else if (!this.timer && !this.immediate) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.startFlush();
      }, this.flushMs);
    }
  }

  private startFlush() {
    this.flushing = this.flushing.then(() => this.flush());
  }

  private async flush() {
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    this.flushingSince = Date.now();
    const started = performance.now();
    try {
      // On the drivers (server/audit/repo.ts). PostgreSQL: one statement, chained onto the heads this
      // instance last saw, checked and written under the chain's locks; if the guess stays wrong, or on
      // SQLite: one transaction, the chain locks and heads, the inserts.
      const rows = batch.map((b) => b.row);
      const sql = hotSql(this.db);
      if (!(sql.dialect === "postgres" && (await appendGuessed(sql, rows, this.guesses)))) {
        await sql.transaction("audit.flush", (tx) => appendAuditRowsOn(tx, rows));
      }
      this.lastFlushOkAt = Date.now();
      this.metrics?.auditFlushed(batch.length, true, (performance.now() - started) / 1000);
      for (const b of batch) b.resolve();
    } catch (e) {
      this.metrics?.auditFlushed(batch.length, false, (performance.now() - started) / 1000);
      for (const b of batch) b.reject(e);
    }
    this.flushingSince = null;
    // Rows queued while this batch was written (on PostgreSQL, its round trips) go next.
    if (this.queue.length && !this.immediate) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.startFlush();
    }
  }

  /** Queue depth, the oldest waiting event's enqueue time, the flush in flight and the last good one (epoch ms). */
  state(): { queued: number; oldestQueuedAt: number | null; flushingSince: number | null; lastFlushOkAt: number | null } {
    return { queued: this.queue.length, oldestQueuedAt: this.queue[0]?.row.createdAt.getTime() ?? null, flushingSince: this.flushingSince, lastFlushOkAt: this.lastFlushOkAt };
  }

  /** Waits for everything queued so far to be written. */
  async drain() {
    while (this.queue.length || this.timer || this.immediate) {
      if (this.timer || this.immediate) {
        if (this.timer) clearTimeout(this.timer);
        if (this.immediate) clearImmediate(this.immediate);
        this.timer = null;
        this.immediate = null;
        this.startFlush();
      }
      await this.flushing;
    }
    await this.flushing;
  }
}
