import type { Context } from "hono";
import { type AtOnce, thenAtOnce } from "../../lib/at-once";
import { ipAdmitted, ipRuleCacheFor, type ParsedIpRule } from "../security/ip-rule-cache";
import { ApiError } from "./errors";
import type { ApiEnv } from "./env";
import { checkPrincipalRate } from "./rate-limit";

export const IP_NOT_ALLOWED = "Your IP address is not allowed by this organisation's IP rules";

/**
 * The org's IP allow/deny rules, applied to every authenticated request (users and agents alike) right
 * after authentication. Usually a Map lookup, answered at once (see IpRuleCache for how fresh the rules
 * are); a promise only when the rules must be loaded.
 */
export function enforceIpRules(c: Context<ApiEnv>): AtOnce<void> {
  const cache = ipRuleCacheFor(c.get("rt"));
  const { orgId } = c.get("principal");
  const admit = (rules: ParsedIpRule[]) => {
    if (!ipAdmitted(rules, c.get("ip"))) throw ApiError.forbidden(IP_NOT_ALLOWED);
  };
  const rules = cache.peek(orgId);
  return rules !== undefined ? admit(rules) : cache.load(orgId).then(admit);
}

/**
 * What `requireAuth` runs once the caller is known: the per-principal rate limit, then the IP rules.
 * Throws at once when one refuses from memory; a promise only when one of them must wait.
 */
export function guardAuthenticatedRequest(c: Context<ApiEnv>): AtOnce<void> {
  return thenAtOnce(checkPrincipalRate(c), () => enforceIpRules(c));
}
