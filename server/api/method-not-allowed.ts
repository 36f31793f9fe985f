import { PatternRouter } from "hono/router/pattern-router";
import { ApiError, problemBody } from "../http/errors";
import { type ApiApp, problemReply } from "../http/pipeline";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/**
 * A wrong verb on an existing route is a 405 with `Allow` (the card's error table), not a 404: the
 * client learns the path is right. Installed after every route is registered, from the app's own
 * route table, so a route added anywhere is covered; only requests that matched no route get here.
 */
export function answerWrongVerbs(app: ApiApp): void {
  const router = new PatternRouter<string>();
  // `ALL` entries are middleware (and would match any verb anyway).
  for (const r of app.routes) if (r.method !== "ALL") router.add(r.method, r.path, r.method);

  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const allowed = METHODS.filter((m) => router.match(m, path)[0].length > 0);
    if (allowed.length === 0) return problemReply(c, problemBody(ApiError.notFound(`No route for ${c.req.method} ${path}`), c.get("requestId")));
    const allow = [...allowed, ...(allowed.includes("GET") ? ["HEAD"] : [])].join(", ");
    return problemReply(c, problemBody(new ApiError(405, `${c.req.method} is not allowed here; use ${allow}`), c.get("requestId")), { Allow: allow });
  });
}
