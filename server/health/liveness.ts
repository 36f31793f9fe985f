import { ApiError, databaseOutage, OUTAGE_RETRY_AFTER_SECONDS } from "../http/errors";
import type { Runtime } from "../runtime";

/** A database that has not answered by then counts as unusable (a dropped network may never answer). */
const DATABASE_TIMEOUT_MS = 3_000;
/** A result is reused this long, so an unauthenticated probe cannot become a stream of queries. */
const REUSE_MS = 1_000;

/**
 * `probe` with its result reused for REUSE_MS per runtime: concurrent and back-to-back probes share
 * one check. Liveness and readiness are both public and unauthenticated.
 */
export function reusedPerRuntime<T>(probe: (rt: Runtime) => Promise<T>): (rt: Runtime) => Promise<T> {
  const lastCheck = new WeakMap<Runtime, { at: number; result: Promise<T> }>();
  return (rt) => {
    const now = Date.now();
    const last = lastCheck.get(rt);
    if (last && now - last.at < REUSE_MS) return last.result;
    const result = probe(rt);
    lastCheck.set(rt, { at: now, result });
    return result;
  };
}

/**
 * Liveness (`/v1/health`): whether this instance can serve requests: a query on a real table answers
 * (`SELECT 1` would not touch a locked SQLite file) and the keystore reports itself usable. Returns the
 * 503 to answer with, or null. Concurrent probes share one check. Readiness (./readiness.ts) asks more.
 */
export const checkLiveness: (rt: Runtime) => Promise<ApiError | null> = reusedPerRuntime(probe);

async function probe(rt: Runtime): Promise<ApiError | null> {
  const database = await probeDatabase(rt);
  if (database) return database;
  const keystore = await rt.keystore.health();
  if (keystore.status !== "ok") return ApiError.unavailable("The keystore is unavailable (see /v1/health/hsm); retry shortly", OUTAGE_RETRY_AFTER_SECONDS);
  return null;
}

/** A query on a real table, bounded in time: the 503 to answer with, or null when the database answered. */
export async function probeDatabase(rt: Runtime): Promise<ApiError | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), DATABASE_TIMEOUT_MS)));
  try {
    const answered = await Promise.race([rt.db.org.findFirst({ select: { id: true } }), timeout]);
    if (answered === "timeout") return ApiError.unavailable(`The database did not answer within ${DATABASE_TIMEOUT_MS / 1000} s; retry shortly`, OUTAGE_RETRY_AFTER_SECONDS);
  } catch (e) {
    // Anything else (a missing table after a botched restore) is unusable all the same.
    return databaseOutage(e) ?? ApiError.unavailable("The database cannot be queried; retry shortly", OUTAGE_RETRY_AFTER_SECONDS);
  } finally {
    clearTimeout(timer);
  }
  return null;
}
