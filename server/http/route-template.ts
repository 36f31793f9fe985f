import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import { METHOD_NAME_ALL } from "hono/router";
import { UNMATCHED_ROUTE } from "../metrics";
import type { ApiEnv } from "./env";

/**
 * The route that answered, as its template (`/v1/vaults/:id/secrets/:path{.+}`), never the raw path:
 * the last handler that ran, or, when `*` middleware answered (a 429 before the route ran), the first
 * route the router matched. A request that matched no route (404, 405) is UNMATCHED_ROUTE. Metrics
 * and per-request billing events label requests with it.
 */
export function routeTemplateOf(c: Context<ApiEnv>): string {
  const routes = matchedRoutes(c);
  const ran = routes[c.req.routeIndex];
  if (ran !== undefined && ran.method !== METHOD_NAME_ALL) return ran.path;
  for (const r of routes) if (r.method !== METHOD_NAME_ALL) return r.path;
  return UNMATCHED_ROUTE;
}
