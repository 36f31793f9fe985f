import type { Context } from "hono";
import { ipAdmitted, ipRuleCacheFor } from "../security/ip-rule-cache";
import { ApiError } from "./errors";
import type { ApiEnv } from "./env";
import { checkPrincipalRate } from "./rate-limit";

export const IP_NOT_ALLOWED = "Your IP address is not allowed by this organisation's IP rules";

/**
 * The org's IP allow/deny rules, applied to every authenticated request (users and agents alike) right
 * after authentication. Usually a Map lookup: see IpRuleCache for how fresh the rules are.
 */
export async function enforceIpRules(c: Context<ApiEnv>): Promise<void> {
  const cache = ipRuleCacheFor(c.get("rt"));
  const { orgId } = c.get("principal");
  const rules = cache.peek(orgId) ?? (await cache.load(orgId));
  if (!ipAdmitted(rules, c.get("ip"))) throw ApiError.forbidden(IP_NOT_ALLOWED);
}

/** What `requireAuth` runs once the caller is known: the per-principal rate limit, then the IP rules. */
export async function guardAuthenticatedRequest(c: Context<ApiEnv>): Promise<void> {
  await checkPrincipalRate(c);
  await enforceIpRules(c);
}
