import type { Db, Tx } from "../db";
import { log } from "../log";

/**
 * Fixed-window counters in the `RateCounter` table, shared by every instance using the database
 * (failed logins per account and per IP, MFA failures, failed key exchanges…). A window is
 * `[floor(now / windowMs) * windowMs, … + windowMs)`; a key's row holds the window it counts and the
 * count. Every change is one atomic statement, so concurrent requests never lose an increment.
 */
type Client = Db | Tx;

export type CounterState = {
  /** Hits in the current window, after this call. */
  count: number;
  /** Seconds until the current window ends (≥ 1): the `Retry-After` for a caller over its limit. */
  retryAfterSeconds: number;
};

const windowStartOf = (now: number, windowMs: number) => Math.floor(now / windowMs) * windowMs;
const retryAfter = (windowStart: number, windowMs: number, now: number) => Math.max(1, Math.ceil((windowStart + windowMs - now) / 1000));

function checkWindow(windowMs: number) {
  if (!Number.isSafeInteger(windowMs) || windowMs <= 0) throw new RangeError("windowMs must be a positive whole number");
}

/**
 * Rows whose window ended long ago count nothing any more (the longest window in use is an hour), but
 * every distinct key leaves one: an attacker spraying random addresses would grow the table forever.
 * They are deleted at most every ten minutes per process, in the background of a hit.
 */
const PRUNE_AFTER_MS = 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 10 * 60 * 1000;
let lastPrune = 0;

/** Deletes counters whose window started more than a day before `now`; returns how many. */
export async function pruneCounters(db: Client, now = Date.now()): Promise<number> {
  const { count } = await db.rateCounter.deleteMany({ where: { windowStart: { lt: BigInt(now - PRUNE_AFTER_MS) } } });
  return count;
}

function maybePrune(db: Client, now: number) {
  // Never inside a caller's transaction (a Tx has no $transaction): it would hold its locks longer.
  if (now - lastPrune < PRUNE_EVERY_MS || !("$transaction" in db)) return;
  lastPrune = now;
  pruneCounters(db, now).catch((e: unknown) => log.warn("could not prune rate counters", { error: e instanceof Error ? e.name : "unknown" }));
}

/**
 * Counts one hit for `key` and returns the count in the current window. One upsert: a row from an
 * older window restarts at 1. A row from a *newer* window (another instance's clock runs ahead)
 * keeps counting in that window rather than resetting, so clock skew cannot wipe a counter.
 */
export async function hit(db: Client, key: string, windowMs: number, now = Date.now()): Promise<CounterState> {
  checkWindow(windowMs);
  maybePrune(db, now);
  const ws = BigInt(windowStartOf(now, windowMs));
  const rows = await db.$queryRaw<{ count: number | bigint; windowStart: number | bigint | string }[]>`
    INSERT INTO "RateCounter" ("key", "windowStart", "count") VALUES (${key}, ${ws}, 1)
    ON CONFLICT ("key") DO UPDATE SET
      "count" = CASE WHEN "RateCounter"."windowStart" >= ${ws} THEN "RateCounter"."count" + 1 ELSE 1 END,
      "windowStart" = CASE WHEN "RateCounter"."windowStart" >= ${ws} THEN "RateCounter"."windowStart" ELSE ${ws} END
    RETURNING "count", "windowStart"`;
  const row = rows[0]!;
  return { count: Number(row.count), retryAfterSeconds: retryAfter(Number(row.windowStart), windowMs, now) };
}

/** The hits counted for `key` in the current window (0 when its row belongs to an older one). */
export async function count(db: Client, key: string, windowMs: number, now = Date.now()): Promise<CounterState> {
  checkWindow(windowMs);
  const ws = windowStartOf(now, windowMs);
  const row = await db.rateCounter.findUnique({ where: { key }, select: { count: true, windowStart: true } });
  const current = row !== null && Number(row.windowStart) >= ws;
  return { count: current ? row.count : 0, retryAfterSeconds: retryAfter(current ? Number(row.windowStart) : ws, windowMs, now) };
}

/**
 * Takes back one hit counted in the current window (e.g. an attempt that was reserved before the
 * slow check and then succeeded). Conditional on the window and a positive count, so it never goes
 * below zero nor touches a newer window's count.
 */
export async function release(db: Client, key: string, windowMs: number, now = Date.now()): Promise<void> {
  checkWindow(windowMs);
  const ws = BigInt(windowStartOf(now, windowMs));
  await db.rateCounter.updateMany({ where: { key, windowStart: ws, count: { gt: 0 } }, data: { count: { decrement: 1 } } });
}
