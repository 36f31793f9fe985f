import type { Db } from "../db";
import { hotSql } from "../db/hot";

/**
 * The advisory "last used" columns: an agent's `lastActiveAt` and a personal key's `lastUsedAt`. Each
 * is written at most once a minute per row by this process, so reads do not become writes, and on the
 * driver (server/db/hot.ts): no decision depends on these columns, so their writes must not empty the
 * in-process caches of principal state and policies (server/db/invalidation.ts). `watchWrites` does not
 * see driver statements, and on PostgreSQL the cache triggers skip an update that changed nothing but
 * these columns (migration 20261205120000_cache_activity_quiet). Before, every agent's first request
 * of each minute emptied every org's cached entries on every instance.
 *
 * The cached principal rows carry the value they were read with, which may be older than the column
 * (the write no longer invalidates them); the marks below are what this process wrote or tried last,
 * so a stale row costs no extra statement. Other instances' writes are seen through the rows they
 * read; the conditional UPDATE keeps concurrent writers to at most one change a minute.
 */
export const ACTIVITY_RESOLUTION_MS = 60_000;
const MAX_MARKS = 10_000;

const STATEMENTS = {
  agent: `UPDATE "Agent" SET "lastActiveAt" = $1 WHERE id = $2 AND ("lastActiveAt" IS NULL OR "lastActiveAt" < $3)`,
  apiKey: `UPDATE "ApiKey" SET "lastUsedAt" = $1 WHERE id = $2 AND ("lastUsedAt" IS NULL OR "lastUsedAt" < $3)`,
} as const;

export type ActivityColumn = keyof typeof STATEMENTS;

/** Per database client: `column:id` → when this process last wrote (or tried to write) that row's column. */
const marks = new WeakMap<Db, Map<string, number>>();

/**
 * Records a use of row `id` now, if neither `last` (the column as the caller read it, epoch ms or null)
 * nor this process's own last write is within the resolution. Returns the write's promise, or undefined
 * when none was due (decided at once: the hot path makes no promise for it); a failed write is not
 * retried before the resolution has passed again.
 */
export function recordActivity(db: Db, column: ActivityColumn, id: string, last: number | null): Promise<void> | undefined {
  const now = Date.now();
  let byRow = marks.get(db);
  if (!byRow) marks.set(db, (byRow = new Map()));
  const key = `${column}:${id}`;
  const latest = Math.max(last ?? -Infinity, byRow.get(key) ?? -Infinity);
  if (now - latest < ACTIVITY_RESOLUTION_MS) return undefined;
  if (byRow.size >= MAX_MARKS) byRow.clear();
  byRow.set(key, now);
  return writeActivity(db, column, id, now);
}

/** An async function: whatever fails (even at once) is the returned promise's rejection, which callers log. */
async function writeActivity(db: Db, column: ActivityColumn, id: string, now: number): Promise<void> {
  await hotSql(db).run(`activity.${column}`, STATEMENTS[column], [new Date(now), id, new Date(now - ACTIVITY_RESOLUTION_MS)]);
}
