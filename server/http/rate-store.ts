import { hit } from "../abuse/counters";
import type { Db } from "../db";
import { log } from "../log";
import { RedisClient } from "./redis-client";

/**
 * Request-rate budgets shared by every instance (TALON_RATE_LIMIT_STORE=postgres|redis): a fixed
 * one-minute window per key, counted by one atomic operation per hit — the RateCounter upsert
 * (server/abuse/counters) on PostgreSQL, an INCR with its expiry in one Lua script on Redis. A
 * window allows `perMinute` hits; at a window's edge a client can fit up to twice that within a
 * minute (the price of one statement per hit; the in-process token bucket has no such edge).
 *
 * If the store cannot be reached the request is let through and a warning logged (at most once a
 * minute): the store is a brake on abuse, and its outage must not take the API down with it.
 */
export type SharedRateStore = { hit(key: string, windowMs: number, now?: number): Promise<{ count: number; retryAfterSeconds: number }> };

export const RATE_WINDOW_MS = 60_000;

export function postgresRateStore(db: Db): SharedRateStore {
  return { hit: (key, windowMs, now = Date.now()) => hit(db, `rl:${key}`, windowMs, now) };
}

/** KEYS[1] counter; ARGV[1] its lifetime (ms). One round trip, atomic on the Redis server. */
const INCR_SCRIPT = "local c = redis.call('INCR', KEYS[1]) if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return c";

export function redisRateStore(url: string): SharedRateStore & { close(): void } {
  const client = new RedisClient(url);
  return {
    async hit(key, windowMs, now = Date.now()) {
      const windowStart = Math.floor(now / windowMs) * windowMs;
      const count = Number(await client.command(["EVAL", INCR_SCRIPT, 1, `talon:rl:${key}:${windowStart}`, windowMs * 2]));
      return { count, retryAfterSeconds: Math.max(1, Math.ceil((windowStart + windowMs - now) / 1000)) };
    },
    close: () => client.close(),
  };
}

let lastWarning = 0;
/** Counts one hit against `perMinute`; 0 when allowed, else the seconds to wait. Fails open (see above). */
export async function takeShared(store: SharedRateStore, key: string, perMinute: number): Promise<number> {
  try {
    const { count, retryAfterSeconds } = await store.hit(key, RATE_WINDOW_MS);
    return count > perMinute ? retryAfterSeconds : 0;
  } catch (e) {
    if (Date.now() - lastWarning > RATE_WINDOW_MS) {
      lastWarning = Date.now();
      log.warn("shared rate-limit store unreachable; requests are not rate limited meanwhile", { error: e instanceof Error ? e.message.split("\n")[0] : "unknown" });
    }
    return 0;
  }
}
