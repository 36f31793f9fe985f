import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { METHOD_NAME_ALL } from "hono/router";
import { type AtOnce, thenAtOnce } from "../../lib/at-once";
import { parseIp } from "../../lib/cidr";
import type { RateLimitName } from "../metrics";
import type { Runtime } from "../runtime";
import { ApiError } from "./errors";
import { postgresRateStore, redisRateStore, type SharedRateStore, takeShared } from "./rate-store";
import type { ApiEnv } from "./env";
import { type Principal, principalRef } from "./principal";

type Bucket = { tokens: number; at: number };
/** An empty bucket refills completely within a minute; one idle that long is indistinguishable from a new one. */
const IDLE_MS = 60_000;

/**
 * Token buckets, one per key, held in this process. `perMinute` tokens fit in a bucket and it refills
 * at `perMinute` per minute, so a client may burst a minute's allowance and then sustains that rate.
 * A check is one Map lookup and a little arithmetic. Memory is bounded: a bucket idle for a minute is
 * full again and carries no information, so a sweep (at most once a minute) drops it; at `maxKeys` the
 * oldest tenth of the buckets goes at once (amortised O(1) per new key). An attacker spraying
 * addresses can so reset others' buckets: that fails open for the limiter, never blocks anyone wrongly.
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private lastSweep: number;

  constructor(
    readonly perMinute: number,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = perMinute / IDLE_MS;
    this.lastSweep = now();
  }

  /** Takes one token; returns 0 when allowed, else the seconds until a token will be available. */
  take(key: string): number {
    if (this.perMinute === 0) return 0;
    const now = this.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (now - this.lastSweep >= IDLE_MS) this.sweepIdle(now);
      if (this.buckets.size >= this.maxKeys) this.evictOldest(Math.ceil(this.maxKeys / 10));
      b = { tokens: this.perMinute, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * this.perMs);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / this.perMs / 1000;
  }

  get size() {
    return this.buckets.size;
  }

  private sweepIdle(now: number) {
    this.lastSweep = now;
    for (const [key, b] of this.buckets) if (now - b.at >= IDLE_MS) this.buckets.delete(key);
  }

  /** Map iterates in insertion order: the oldest-created buckets go first. */
  private evictOldest(count: number) {
    let left = count;
    for (const key of this.buckets.keys()) {
      if (left-- <= 0) break;
      this.buckets.delete(key);
    }
  }
}

/**
 * `shared` is set when TALON_RATE_LIMIT_STORE is postgres or redis: every instance then counts in the
 * same place (./rate-store) and the buckets here only carry each budget's size.
 */
export type RateLimiters = { ip: TokenBucketLimiter; principal: TokenBucketLimiter; auth: TokenBucketLimiter; shared: SharedRateStore | null };
type Budget = "ip" | "principal" | "auth";

/**
 * One set per runtime, so the middleware (per app), `requireAuth` and the dashboard's actions share
 * the buckets. Kept on globalThis: Next.js bundles its own copy of this module, and both copies must
 * find the same buckets for the same runtime.
 */
const LIMITERS = Symbol.for("talon.rateLimiters");
const g = globalThis as typeof globalThis & { [LIMITERS]?: WeakMap<Runtime, RateLimiters> };
const limiters = (g[LIMITERS] ??= new WeakMap<Runtime, RateLimiters>());
export function rateLimitersFor(rt: Runtime): RateLimiters {
  let l = limiters.get(rt);
  if (!l) {
    const cfg = rt.config.rateLimits;
    const store = rt.config.rateLimitStore;
    const shared = store.kind === "postgres" ? postgresRateStore(rt.db) : store.kind === "redis" ? redisRateStore(store.url) : null;
    l = { ip: new TokenBucketLimiter(cfg.ipPerMinute), principal: new TokenBucketLimiter(cfg.principalPerMinute), auth: new TokenBucketLimiter(cfg.authPerMinute), shared };
    limiters.set(rt, l);
  }
  return l;
}

/**
 * Takes one hit from a budget: in this process (a number at once, no promise or turn on the hot path),
 * or in the shared store (a promise). 0 when allowed, else the seconds to wait.
 */
function take(l: RateLimiters, budget: Budget, key: string): AtOnce<number> {
  const bucket = l[budget];
  if (bucket.perMinute === 0) return 0;
  return l.shared ? takeShared(l.shared, `${budget}:${key}`, bucket.perMinute) : bucket.take(key);
}

/**
 * The bucket key for an address. An IPv6 client usually controls a whole /64, so it gets one bucket
 * per /64, not 2^64 of them.
 */
export function ipBucketKey(ip: string): string {
  if (!ip.includes(":")) return ip;
  const n = parseIp(ip);
  return n === null ? ip : `${(n >> 64n).toString(16)}::/64`;
}

/**
 * Unauthenticated routes that take a credential or a one-time token: guessing is what an attacker
 * does there, so they get a much smaller per-IP budget on top of the general one. Listed as the
 * router's templates (POST), so they are compared with the route a request was matched to.
 */
export const AUTH_ROUTES: ReadonlySet<string> = new Set([
  "/v1/auth/token",
  "/v1/auth/signup",
  "/v1/auth/verify-email",
  "/v1/auth/forgot-password",
  "/v1/auth/reset-password",
  "/v1/auth/agent-token",
  "/v1/auth/api-key-token",
  "/v1/auth/mfa/verify",
  "/v1/auth/google",
  "/v1/auth/refresh",
  "/v1/org/invitations/accept",
]);
/** Share links (`/v1/share/:id` and anything below it) take the same budget by every method; HEAD is served by the GET route. */
const SHARE_LINK_ROUTES = "/v1/share/";

/**
 * Decided on the routes the router matched, never on the raw path: `/v1/auth/token/` and
 * `/v1/auth/%74oken` reach the same handler as `/v1/auth/token` and must draw on the same budget. A
 * request no route matches (`/V1/Auth/Token`) runs no handler: the 404 answers it.
 */
function isAuthRoute(c: Context<ApiEnv>): boolean {
  return matchedRoutes(c).some(
    (r) => r.method !== METHOD_NAME_ALL && (r.path.startsWith(SHARE_LINK_ROUTES) || (r.method === "POST" && AUTH_ROUTES.has(r.path))),
  );
}

/** Throws the 429 (counted in the metrics) when `wait`, the seconds `take` answered, says the budget is spent. */
function refuseIfWaiting(rt: Runtime, limit: RateLimitName, what: string, wait: number): void {
  if (wait <= 0) return;
  rt.metrics.rateLimited(limit);
  const retry = Math.max(1, Math.ceil(wait));
  throw ApiError.tooManyRequests(`Too many requests ${what}; retry after ${retry} second${retry === 1 ? "" : "s"}`, retry);
}
const FROM_IP = "from your IP address";

/**
 * Per-IP limits, before authentication (every route, health included: a check costs a Map lookup).
 * An unknown address (the Next.js catch-all has no socket; set TALON_TRUSTED_PROXY_HOPS there) is not
 * limited per IP: one shared bucket would let a single client starve everyone.
 */
export function rateLimitByIp(rt: Runtime): MiddlewareHandler<ApiEnv> {
  const l = rateLimitersFor(rt);
  const refuse = (wait: number) => refuseIfWaiting(rt, "ip", FROM_IP, wait);
  const limitAuthRoute = async (key: string, taken: AtOnce<number>, next: () => Promise<void>) => {
    refuse(await taken);
    refuseIfWaiting(rt, "auth", "to authentication endpoints from your IP address", await take(l, "auth", key));
    await next();
  };
  // Not an async function: a request within its budget (a number from this process's buckets) goes
  // on without a promise and a turn of its own.
  return (c, next) => {
    const ip = c.get("ip");
    if (ip === "") return next();
    const key = ipBucketKey(ip);
    const wait = take(l, "ip", key);
    if (isAuthRoute(c)) return limitAuthRoute(key, wait, next);
    if (typeof wait === "number") {
      refuse(wait);
      return next();
    }
    return wait.then((w) => {
      refuse(w);
      return next();
    });
  };
}

/**
 * The dashboard's sign-in, sign-up and invitation steps take the same two per-IP budgets as the API's
 * auth routes (they are the same operations, reached through server actions instead).
 */
export async function checkAuthStepRate(rt: Runtime, ip: string): Promise<void> {
  if (ip === "") return;
  const l = rateLimitersFor(rt);
  const key = ipBucketKey(ip);
  refuseIfWaiting(rt, "ip", FROM_IP, await take(l, "ip", key));
  refuseIfWaiting(rt, "auth", "to sign-in and sign-up from your IP address", await take(l, "auth", key));
}

/** The per-principal budget, for callers outside the API pipeline (dashboard actions). */
export async function checkPrincipalBudget(rt: Runtime, principal: Principal): Promise<void> {
  await principalBudget(rt, principal);
}

/** The per-principal budget: at once from this process's buckets, a promise from the shared store. */
function principalBudget(rt: Runtime, principal: Principal): AtOnce<void> {
  const wait = take(rateLimitersFor(rt), "principal", principalRef(principal));
  const refuse = (w: number) => refuseIfWaiting(rt, "principal", "for this credential's user or agent", w);
  return thenAtOnce(wait, refuse);
}

/** Per-principal limit, called by `requireAuth` right after the caller is known (throws at once, or a promise). */
export function checkPrincipalRate(c: Context<ApiEnv>): AtOnce<void> {
  return principalBudget(c.get("rt"), c.get("principal"));
}
