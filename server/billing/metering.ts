import { randomUUID } from "node:crypto";
import { hotSql } from "../db/hot";
import { timeOrderedId } from "../db/ids";
import { ApiError } from "../http/errors";
import { log } from "../log";
import type { Runtime } from "../runtime";
import { billingUrl, dayOf, periodOf, planOf, type TierName } from "./tiers";

/**
 * Request metering without a database round trip per request.
 * With billing off (TALON_BILLING=off) every org is unlimited: requests are still counted the same
 * way, so usage is shown, but nothing is refused and no credit is drawn.
 *
 * Each instance reserves quota for an org in blocks of k requests with one conditional statement
 * (`UPDATE "UsagePeriod" SET requests = requests + k WHERE … AND requests + k <= limit`) and serves
 * the next k requests from memory. Near the limit the block shrinks to what is left, so the quota is
 * never overshot, even with several instances on one PostgreSQL database. Past the quota, credits are
 * reserved the same way (`creditBalance >= n × price`, never negative) with a ledger entry. Idle or
 * stale blocks (another month or day) go back to the database, so the counters are exact at rest; a
 * request is only answered after its block was committed, so an acknowledged request is never lost —
 * a crash can only over-count by the unused part of a block, never under-count.
 *
 * Why not piggyback on the audit group commit: most metered requests (reads, lists) write no audit
 * event, so that would add a write to exactly the requests that should stay cheap.
 */

type Block = { period: string; day: string; left: number; priceMillicents: bigint };

type OrgMeter = {
  quota: Block | null;
  credit: Block | null;
  pending: Promise<void> | null;
  /** The last refill granted nothing: the request that awaited it is over quota. */
  dry: boolean;
  tier: TierName;
  limit: number | null;
  overageMethod: string;
  /** Database balance after the last reservation (millicents), excluding what this instance holds. */
  balance: bigint;
  /** UsagePeriod.requests after the last reservation, including the block this instance holds. */
  total: number;
  lastUse: number;
  rowPeriod: string;
  /** Unlimited orgs only: the next quota block is `block × grow`, doubled while refills come fast (see refill). */
  grow: number;
  lastRefillAt: number;
};

/** How far an unlimited org's block grows (× TALON_METER_BLOCK) while its refills come less than a second apart. */
const MAX_GROW = 64;
const FAST_REFILL_MS = 1000;

/** Millicents as the drivers give them (SQLite: a number; PostgreSQL int8: a string). */
const bigintOf = (v: unknown) => BigInt(v as string | number | bigint);

const ORG_PLAN = `SELECT tier AS "tier", "overageMethod" AS "overageMethod", "creditBalance" AS "creditBalance" FROM "Org" WHERE id = $1`;
const ORG_BALANCE = `SELECT "creditBalance" AS "creditBalance" FROM "Org" WHERE id = $1`;
const PERIOD_ROW = `INSERT INTO "UsagePeriod" ("orgId", "period", "requests", "overage") VALUES ($1, $2, 0, 0) ON CONFLICT DO NOTHING`;
const PERIOD_REQUESTS = `SELECT requests AS "requests" FROM "UsagePeriod" WHERE "orgId" = $1 AND "period" = $2`;
const TAKE_UNLIMITED = `UPDATE "UsagePeriod" SET "requests" = "requests" + $3 WHERE "orgId" = $1 AND "period" = $2 RETURNING "requests"`;
const TAKE_LIMITED = `UPDATE "UsagePeriod" SET "requests" = "requests" + $3 WHERE "orgId" = $1 AND "period" = $2 AND "requests" + $3 <= $4 RETURNING "requests"`;
const DAY_ADD = `INSERT INTO "UsageDay" ("orgId", "day", "requests") VALUES ($1, $2, $3) ON CONFLICT ("orgId", "day") DO UPDATE SET "requests" = "UsageDay"."requests" + $3`;
const TAKE_CREDITS = `UPDATE "Org" SET "creditBalance" = "creditBalance" - $2 WHERE id = $1 AND "creditBalance" >= $2 RETURNING "creditBalance"`;
const OVERAGE_ADD = `UPDATE "UsagePeriod" SET "overage" = "overage" + $3 WHERE "orgId" = $1 AND "period" = $2`;
const LEDGER = `INSERT INTO "CreditTransaction" (id, "orgId", amount, kind, description, "createdAt") VALUES ($1, $2, $3, $4, $5, $6)`;
const PERIOD_GIVE_BACK = `UPDATE "UsagePeriod" SET "requests" = "requests" - $3 WHERE "orgId" = $1 AND "period" = $2`;
const DAY_GIVE_BACK = `UPDATE "UsageDay" SET "requests" = "requests" - $3 WHERE "orgId" = $1 AND "day" = $2`;
const CREDITS_GIVE_BACK = `UPDATE "Org" SET "creditBalance" = "creditBalance" + $2 WHERE id = $1`;
const OVERAGE_GIVE_BACK = `UPDATE "UsagePeriod" SET "overage" = "overage" - $3 WHERE "orgId" = $1 AND "period" = $2`;

export type MeterReading = {
  used: number;
  limit: number | null;
  /** What this request cost from the credit balance (millicents): the overage price, or 0 within the quota. */
  priceMillicents: bigint;
  balanceMillicents: bigint;
  overageMethod: string;
  overage: boolean;
  tier: TierName;
};

const num = (v: unknown) => Number(v);

export class Meter {
  private readonly orgs = new Map<string, OrgMeter>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly rt: Runtime,
    private readonly opts: { block: number; releaseMs: number } = rt.config.meter,
  ) {
    this.timer = setInterval(() => void this.releaseIdle(), Math.max(10, Math.floor(opts.releaseMs / 2)));
    this.timer.unref();
  }

  /**
   * Counts one request for the org from this instance's reserved block, at once (no promise: the hot
   * path), or null when the block is spent or stale and `draw` must refill it first.
   */
  drawReserved(orgId: string): MeterReading | null {
    const s = this.state(orgId);
    s.lastUse = Date.now();
    return this.takeReserved(s, s.lastUse);
  }

  /** Counts one request for the org, or throws 402 when neither quota nor credits are left. */
  async draw(orgId: string): Promise<MeterReading> {
    const s = this.state(orgId);
    s.lastUse = Date.now();
    for (;;) {
      const taken = this.takeReserved(s, Date.now());
      if (taken) return taken;
      if (s.pending) {
        await s.pending;
        continue;
      }
      s.pending = this.refill(orgId, s).finally(() => (s.pending = null));
      await s.pending;
      if (s.dry) throw this.exhausted(s);
    }
  }

  private takeReserved(s: OrgMeter, now: number): MeterReading | null {
    const period = periodOf(now);
    const day = dayOf(now);
    if (s.quota && s.quota.left > 0 && s.quota.period === period && s.quota.day === day) {
      s.quota.left--;
      return this.reading(s, false);
    }
    if (s.credit && s.credit.left > 0 && s.credit.period === period && s.credit.day === day) {
      s.credit.left--;
      return this.reading(s, true);
    }
    return null;
  }

  /** Forgets what this instance knows about an org (after a plan or method change) and returns its blocks. */
  async reset(orgId: string): Promise<void> {
    const s = this.orgs.get(orgId);
    if (!s) return;
    await s.pending;
    // The state object stays: a request still holding it must not reserve into an orphan.
    await this.release(orgId, s);
  }

  /** Returns every unused reservation (shutdown; tests checking the counters at rest). */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.orgs.entries()].map(async ([orgId, s]) => {
      await s.pending;
      await this.release(orgId, s);
    }));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.releaseAll();
  }

  private state(orgId: string): OrgMeter {
    let s = this.orgs.get(orgId);
    if (!s) {
      s = { quota: null, credit: null, pending: null, dry: false, tier: "free", limit: 0, overageMethod: "credits", balance: 0n, total: 0, lastUse: 0, rowPeriod: "", grow: 1, lastRefillAt: 0 };
      this.orgs.set(orgId, s);
    }
    return s;
  }

  private reading(s: OrgMeter, overage: boolean): MeterReading {
    const held = s.credit ? BigInt(s.credit.left) * s.credit.priceMillicents : 0n;
    return {
      used: s.total - (s.quota?.left ?? 0),
      limit: s.limit,
      priceMillicents: overage && s.credit ? s.credit.priceMillicents : 0n,
      balanceMillicents: s.balance + held,
      overageMethod: s.overageMethod,
      overage,
      tier: s.tier,
    };
  }

  private exhausted(s: OrgMeter): ApiError {
    const url = billingUrl(this.rt.config.publicUrl);
    const detail =
      s.overageMethod === "credits"
        ? `Monthly request quota reached (${s.total}/${s.limit} on ${s.tier} tier) and the credit balance does not cover another request. Top up credits or upgrade at ${url}`
        : `Monthly request quota reached (${s.total}/${s.limit} on ${s.tier} tier). Switch the overage method to credits and top up, or upgrade at ${url}`;
    return new ApiError(402, detail, { headers: this.headersOf(this.reading(s, false)) });
  }

  headersOf(r: MeterReading): Record<string, string> {
    const h: Record<string, string> = {
      "X-RateLimit-Requests-Used": String(r.used),
      "X-RateLimit-Requests-Limit": r.limit === null ? "unlimited" : String(r.limit),
    };
    // With billing off there is nothing to pay with: usage is counted and shown, no more.
    if (this.rt.config.billing === "off") return h;
    h["X-Credit-Balance-Cents"] = (Number(r.balanceMillicents) / 1000).toFixed(2);
    h["X-Overage-Method"] = r.overageMethod;
    if (r.limit !== null && r.used * 100 >= r.limit * 80) {
      h["X-Quota-Warning"] = `${Math.min(100, Math.floor((r.used * 100) / r.limit))}% of monthly quota used`;
    }
    return h;
  }

  /**
   * One reservation: quota first, then credits. Runs single-flight per org, on the drivers
   * (server/db/hot.ts): each reservation is one conditional UPDATE in a transaction with its day row.
   */
  private async refill(orgId: string, s: OrgMeter): Promise<void> {
    await this.release(orgId, s);
    const now = Date.now();
    const period = periodOf(now);
    const day = dayOf(now);
    const sql = hotSql(this.rt.db);
    const org = await sql.get("meter.orgPlan", ORG_PLAN, [orgId]);
    if (!org) throw ApiError.unauthorized("The organisation no longer exists");
    const { name, tier } = planOf(this.rt.config.billing, String(org.tier));
    s.tier = name;
    s.limit = tier.requestsPerMonth;
    s.overageMethod = String(org.overageMethod);
    s.balance = bigintOf(org.creditBalance);
    if (s.rowPeriod !== period) {
      await sql.run("meter.periodRow", PERIOD_ROW, [orgId, period]);
      s.rowPeriod = period;
    }
    // An unlimited org (billing off, or an unlimited plan) cannot be over-served, so a busy one takes
    // bigger blocks: fewer reservations, and idle blocks still go back (exact at rest). A limited org
    // keeps the configured block, so instances sharing its quota never strand much of it.
    s.grow = s.limit === null && now - s.lastRefillAt < FAST_REFILL_MS ? Math.min(s.grow * 2, MAX_GROW) : 1;
    s.lastRefillAt = now;
    const granted = await this.reserveQuota(orgId, period, day, s);
    if (granted > 0) {
      s.quota = { period, day, left: granted, priceMillicents: 0n };
      s.dry = false;
      return;
    }
    const price = tier.overagePriceMillicents;
    const bought = s.overageMethod === "credits" && price > 0n ? await this.reserveCredits(orgId, period, day, price, s) : 0;
    s.credit = bought > 0 ? { period, day, left: bought, priceMillicents: price } : null;
    s.dry = bought === 0;
  }

  private async reserveQuota(orgId: string, period: string, day: string, s: OrgMeter): Promise<number> {
    const limit = s.limit;
    const sql = hotSql(this.rt.db);
    let k = this.opts.block * s.grow;
    for (let attempt = 0; attempt < 5; attempt++) {
      const got = await sql.transaction("meter.reserveQuota", async (tx) => {
        const rows =
          limit === null
            ? await tx.all("meter.takeUnlimited", TAKE_UNLIMITED, [orgId, period, k])
            : await tx.all("meter.takeLimited", TAKE_LIMITED, [orgId, period, k, limit]);
        if (rows.length === 0) return null;
        await tx.run("meter.dayAdd", DAY_ADD, [orgId, day, k]);
        return num(rows[0]!.requests);
      });
      if (got !== null) {
        s.total = got;
        return k;
      }
      const row = await sql.get("meter.periodRequests", PERIOD_REQUESTS, [orgId, period]);
      s.total = row ? num(row.requests) : 0;
      const remaining = (limit ?? 0) - s.total;
      if (remaining <= 0) return 0;
      k = Math.min(k, remaining);
    }
    return 0;
  }

  private async reserveCredits(orgId: string, period: string, day: string, price: bigint, s: OrgMeter): Promise<number> {
    const sql = hotSql(this.rt.db);
    let n = this.opts.block;
    for (let attempt = 0; attempt < 5; attempt++) {
      const cost = price * BigInt(n);
      const got = await sql.transaction("meter.reserveCredits", async (tx) => {
        const rows = await tx.all("meter.takeCredits", TAKE_CREDITS, [orgId, cost]);
        if (rows.length === 0) return null;
        await tx.run("meter.overageAdd", OVERAGE_ADD, [orgId, period, n]);
        await tx.run("meter.dayAdd", DAY_ADD, [orgId, day, n]);
        await tx.run("meter.ledger", LEDGER, [randomUUID(), orgId, -cost, "overage", `Overage: ${n} requests reserved at ${price} millicents each`, new Date()]);
        return bigintOf(rows[0]!.creditBalance);
      });
      if (got !== null) {
        s.balance = got;
        return n;
      }
      const org = await sql.get("meter.orgBalance", ORG_BALANCE, [orgId]);
      s.balance = org ? bigintOf(org.creditBalance) : 0n;
      const affordable = Number(s.balance / price);
      if (affordable <= 0) return 0;
      n = Math.min(n, affordable);
    }
    return 0;
  }

  /** Gives unused reservations back: requests to their month and day, credits to the balance. */
  private async release(orgId: string, s: OrgMeter): Promise<void> {
    const quota = s.quota;
    const credit = s.credit;
    s.quota = null;
    s.credit = null;
    const sql = hotSql(this.rt.db);
    try {
      if (quota && quota.left > 0) {
        const u = quota.left;
        await sql.transaction("meter.giveBackQuota", async (tx) => {
          await tx.run("meter.periodGiveBack", PERIOD_GIVE_BACK, [orgId, quota.period, u]);
          await tx.run("meter.dayGiveBack", DAY_GIVE_BACK, [orgId, quota.day, u]);
        });
        s.total -= u;
      }
      if (credit && credit.left > 0) {
        const u = credit.left;
        const refund = credit.priceMillicents * BigInt(u);
        await sql.transaction("meter.giveBackCredits", async (tx) => {
          await tx.run("meter.creditsGiveBack", CREDITS_GIVE_BACK, [orgId, refund]);
          await tx.run("meter.overageGiveBack", OVERAGE_GIVE_BACK, [orgId, credit.period, u]);
          await tx.run("meter.dayGiveBack", DAY_GIVE_BACK, [orgId, credit.day, u]);
          await tx.run("meter.ledger", LEDGER, [randomUUID(), orgId, refund, "overage_refund", `Unused overage reservation returned (${u} requests)`, new Date()]);
        });
        s.balance += refund;
      }
    } catch (e) {
      // The reservation stays counted: the org is over-counted by at most one block, never under-counted.
      log.warn("could not return a usage reservation", { orgId, error: e instanceof Error ? e.name : "unknown" });
    }
  }

  private async releaseIdle(): Promise<void> {
    const cutoff = Date.now() - this.opts.releaseMs;
    for (const [orgId, s] of this.orgs) {
      if (s.pending || s.lastUse > cutoff) continue;
      if (!s.quota?.left && !s.credit?.left) {
        this.orgs.delete(orgId);
        continue;
      }
      s.pending = this.release(orgId, s).finally(() => (s.pending = null));
    }
  }
}

/** One metered request as `GET /v1/billing/history` lists it; `endpoint` is the route template, never the raw path. */
export type UsageEventInput = {
  orgId: string;
  principalType: "user" | "agent";
  principalId: string;
  method: string;
  endpoint: string;
  statusCode: number;
  priceMillicents: bigint;
  isPaid: boolean;
};

const USAGE_EVENT_FLUSH_MS = 200;
const USAGE_EVENT_BATCH = 500;
/** Beyond this many unwritten rows (a database that keeps failing), the oldest are dropped, never memory. */
const USAGE_EVENT_QUEUE_MAX = 50_000;

/**
 * Per-request history rows (TALON_BILLING=on only), written off the request's path: queued in memory
 * and inserted in batches every USAGE_EVENT_FLUSH_MS (or at USAGE_EVENT_BATCH rows) with one
 * createMany. The response never waits for its row. Unlike the audit log this is a convenience
 * ledger, not evidence: the counters that bill (UsagePeriod, credits) are exact on their own, and a
 * crash loses at most the last batch of history rows.
 */
export class UsageEventLog {
  private queue: (UsageEventInput & { id: string; createdAt: Date })[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly rt: Runtime) {}

  record(e: UsageEventInput): void {
    const createdAt = new Date();
    this.queue.push({ ...e, id: timeOrderedId(createdAt.getTime()), createdAt });
    if (this.queue.length > USAGE_EVENT_QUEUE_MAX) this.queue.splice(0, this.queue.length - USAGE_EVENT_QUEUE_MAX);
    if (this.queue.length >= USAGE_EVENT_BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), USAGE_EVENT_FLUSH_MS).unref();
  }

  /** Writes everything queued so far (the history route calls it so a caller sees its own requests). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.flushing = this.flushing.then(async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, USAGE_EVENT_BATCH);
        try {
          await this.rt.db.usageEvent.createMany({ data: batch });
        } catch (e) {
          this.queue.unshift(...batch);
          log.warn("could not write usage events", { rows: batch.length, error: e instanceof Error ? e.name : "unknown" });
          this.timer ??= setTimeout(() => void this.flush(), USAGE_EVENT_FLUSH_MS * 10).unref();
          return;
        }
      }
    });
    return this.flushing;
  }
}

const METERS = new WeakMap<Runtime, Meter>();
const USAGE_LOGS = new WeakMap<Runtime, UsageEventLog>();

/** The runtime's history writer; flushed by the runtime's close (chained through meterFor). */
export function usageEventsFor(rt: Runtime): UsageEventLog {
  let u = USAGE_LOGS.get(rt);
  if (!u) {
    u = new UsageEventLog(rt);
    USAGE_LOGS.set(rt, u);
    meterFor(rt);
  }
  return u;
}

/**
 * The runtime's meter (one per process and database). Its reservations must go back before the
 * database closes, so the runtime's `close` is chained here, where the meter is born; the runtime
 * itself need not know about billing.
 */
export function meterFor(rt: Runtime): Meter {
  let m = METERS.get(rt);
  if (!m) {
    m = new Meter(rt);
    METERS.set(rt, m);
    const closeRuntime = rt.close.bind(rt);
    rt.close = async () => {
      await closeMeter(rt);
      await closeRuntime();
    };
  }
  return m;
}

/** Stops the meter and returns its reservations; call before closing the database. */
export async function closeMeter(rt: Runtime): Promise<void> {
  const m = METERS.get(rt);
  METERS.delete(rt);
  await m?.close();
  await USAGE_LOGS.get(rt)?.flush();
}
