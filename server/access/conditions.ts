import { type Cidr, ipInCidr, parseCidr, parseIp } from "../../lib/cidr";
import { inTimeWindow, type TimeWindow } from "../../lib/time-window";
import type { PolicyConditions } from "../../lib/contract/policies";

/**
 * A policy's conditions, parsed once when the policy row is loaded so a request only compares
 * numbers. `cidrs: null` = no IP condition (absent or empty allowlist, as with the card's other
 * allowlists); `window: null` = any time.
 */
export type CompiledConditions = { cidrs: Cidr[] | null; window: TimeWindow | null };

export function parseStoredConditions(json: string): PolicyConditions {
  const parsed: unknown = JSON.parse(json);
  return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as PolicyConditions) : {};
}

export function compileConditions(c: PolicyConditions): CompiledConditions {
  const list = c.ip_allowlist ?? [];
  // A stored CIDR that no longer parses matches nothing: the allowlist fails closed.
  const cidrs = list.length ? list.map((s) => parseCidr(s)).filter((x): x is Cidr => x !== null) : null;
  return { cidrs, window: c.time_window ?? null };
}

/** Whether the conditions hold for a request from `ip` at `now`. An unknown client IP fails any allowlist. */
export function conditionsHold(c: CompiledConditions, ip: string, now: Date): boolean {
  if (c.cidrs) {
    const n = parseIp(ip);
    if (n === null || !c.cidrs.some((cidr) => ipInCidr(n, cidr))) return false;
  }
  return !c.window || inTimeWindow(c.window, now);
}
