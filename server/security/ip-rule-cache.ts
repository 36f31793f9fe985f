import { type Cidr, ipInCidr, parseCidr, parseIp } from "../../lib/cidr";
import type { Db } from "../db";
import { invalidationOf } from "../db/invalidation";
import type { Runtime } from "../runtime";

export type ParsedIpRule = { ruleType: "allow" | "deny"; cidr: Cidr };

/**
 * The org's verdict on an address: any matching deny rule refuses; once the org has an allow rule,
 * only addresses inside one get in; with no rules everyone does. An address that cannot be parsed
 * (no socket address, e.g.) is refused whenever the org has rules at all: fail closed.
 */
export function ipAdmitted(rules: readonly ParsedIpRule[], ip: string): boolean {
  if (rules.length === 0) return true;
  const n = parseIp(ip);
  if (n === null) return false;
  let hasAllow = false;
  let allowed = false;
  for (const r of rules) {
    const inside = ipInCidr(n, r.cidr);
    if (r.ruleType === "deny") {
      if (inside) return false;
    } else {
      hasAllow = true;
      allowed ||= inside;
    }
  }
  return !hasAllow || allowed;
}

export function parseRules(rows: readonly { ruleType: string; cidr: string }[]): ParsedIpRule[] {
  const out: ParsedIpRule[] = [];
  for (const row of rows) {
    const cidr = parseCidr(row.cidr);
    // Stored rules were validated on the way in; an unreadable one (edited by hand) denies everything.
    out.push(cidr ? { ruleType: row.ruleType === "allow" ? "allow" : "deny", cidr } : { ruleType: "deny", cidr: { base: 0n, prefix: 0 } });
  }
  return out;
}

/**
 * Each org's rules, held for `ttlMs` so an authenticated request usually costs a Map lookup instead of
 * a query. An entry is also dropped by every write to IpRule (or another watched table) on any instance
 * sharing the database (server/db/invalidation.ts), so a change is seen by the next request everywhere;
 * while that is not known (the PostgreSQL listener is down) nothing is cached. `ttlMs` = 0 queries every
 * time. Concurrent misses for one org share one query; a load that raced an invalidation is not stored.
 */
export class IpRuleCache {
  private readonly entries = new Map<string, { rules: ParsedIpRule[]; expiresAt: number; stamp: number }>();
  private readonly loading = new Map<string, { p: Promise<ParsedIpRule[]>; stamp: number | null }>();
  private generation = 0;

  constructor(
    private readonly db: Db,
    private readonly ttlMs: number,
    private readonly maxOrgs = 10_000,
  ) {}

  /** The cached rules, or undefined when they must be loaded. */
  peek(orgId: string): ParsedIpRule[] | undefined {
    const e = this.entries.get(orgId);
    if (e === undefined) return undefined;
    if (e.expiresAt > Date.now() && invalidationOf(this.db)?.current(e.stamp)) return e.rules;
    this.entries.delete(orgId);
    return undefined;
  }

  load(orgId: string): Promise<ParsedIpRule[]> {
    const inv = invalidationOf(this.db);
    const stamp = inv?.stamp() ?? null;
    // A load that started before the last write may have read what it changed: not shared then.
    const pending = this.loading.get(orgId);
    if (pending && pending.stamp !== null && pending.stamp === stamp) return pending.p;
    const generation = this.generation;
    const p = this.db.ipRule
      .findMany({ where: { orgId }, select: { ruleType: true, cidr: true } })
      .then((rows) => {
        const rules = parseRules(rows);
        if (this.ttlMs > 0 && generation === this.generation && stamp !== null && inv?.current(stamp)) this.store(orgId, rules, stamp);
        return rules;
      })
      .finally(() => {
        if (this.loading.get(orgId)?.p === p) this.loading.delete(orgId);
      });
    this.loading.set(orgId, { p, stamp });
    return p;
  }

  invalidate(orgId: string) {
    this.generation++;
    this.entries.delete(orgId);
    this.loading.delete(orgId);
  }

  private store(orgId: string, rules: ParsedIpRule[], stamp: number) {
    if (this.entries.size >= this.maxOrgs) {
      // Oldest first (insertion order); a dropped entry costs one query on its next use.
      const drop = this.entries.keys().next().value;
      if (drop !== undefined) this.entries.delete(drop);
    }
    this.entries.set(orgId, { rules, expiresAt: Date.now() + this.ttlMs, stamp });
  }
}

// On globalThis, so the API app and the dashboard (Next.js bundles its own copy of this module) share
// one cache per runtime, and a rule changed on either side is seen at once by both.
const CACHES = Symbol.for("talon.ipRuleCaches");
const g = globalThis as typeof globalThis & { [CACHES]?: WeakMap<Runtime, IpRuleCache> };
const caches = (g[CACHES] ??= new WeakMap<Runtime, IpRuleCache>());
export function ipRuleCacheFor(rt: Runtime): IpRuleCache {
  let cache = caches.get(rt);
  if (!cache) {
    cache = new IpRuleCache(rt.db, rt.config.ipRulesCacheSeconds * 1000);
    caches.set(rt, cache);
  }
  return cache;
}
