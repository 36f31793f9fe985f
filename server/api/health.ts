import { createRoute } from "@hono/zod-openapi";
import { ZProblem } from "../../lib/contract/common";
import { ZHealthResponse, ZHsmHealthResponse, ZReadinessResponse } from "../../lib/contract/health";
import { checkLiveness } from "../health/liveness";
import { checkReady } from "../health/readiness";
import { ApiError, problemBody } from "../http/errors";
import type { ApiApp } from "../http/pipeline";
import { TALON_VERSION } from "../version";

const health = createRoute({
  method: "get",
  path: "/v1/health",
  tags: ["Health"],
  summary: "Liveness: the database answers and the keystore is usable",
  security: [],
  responses: {
    200: { description: "Service is up", content: { "application/json": { schema: ZHealthResponse } } },
    503: {
      description: "The database or the keystore cannot be used right now; `Retry-After` says when to ask again",
      headers: { "Retry-After": { description: "Seconds to wait", schema: { type: "integer" } } },
      content: { "application/problem+json": { schema: ZProblem } },
    },
  },
});

const hsmHealth = createRoute({
  method: "get",
  path: "/v1/health/hsm",
  tags: ["Health"],
  summary: "Keystore status (provider `local` is not an HSM)",
  security: [],
  responses: {
    200: { description: "Keystore reachable", content: { "application/json": { schema: ZHsmHealthResponse } } },
    503: { description: "Keystore unreachable", content: { "application/json": { schema: ZHsmHealthResponse } } },
  },
});

const ready = createRoute({
  method: "get",
  path: "/v1/health/ready",
  tags: ["Health"],
  summary: "Readiness: database reachable, migrations current, keystore self-test fresh, audit writer not stuck; each part reported",
  security: [],
  responses: {
    200: { description: "Ready for traffic", content: { "application/json": { schema: ZReadinessResponse } } },
    503: {
      description:
        "Not ready: `detail` names the failing parts; two extension members follow the problem's own: `failing` (the failing parts' names) and `parts` (every part's result, as in the 200 body). `Retry-After` says when to ask again",
      headers: { "Retry-After": { description: "Seconds to wait", schema: { type: "integer" } } },
      content: { "application/problem+json": { schema: ZProblem } },
    },
  },
});

export function registerHealthRoutes(app: ApiApp) {
  app.openapi(health, async (c) => {
    const unavailable = await checkLiveness(c.get("rt"));
    if (unavailable) throw unavailable;
    return c.json({ status: "ok" as const, service: "talon", version: TALON_VERSION }, 200);
  });
  app.openapi(ready, async (c) => {
    const r = await checkReady(c.get("rt"));
    if (r.ready) return c.json({ status: "ready" as const, service: "talon", version: TALON_VERSION, parts: r.parts }, 200);
    const err = ApiError.unavailable(`Not ready: ${r.failing.map((p) => `${p} (${r.parts[p].detail})`).join("; ")}`, r.retryAfterSeconds);
    // A problem body with two extension members (RFC 7807 §3.2): which parts failed, and every part's result.
    const body = { ...problemBody(err, c.get("requestId")), failing: r.failing, parts: r.parts };
    // The typed handler knows only c.json bodies; this one is problem+json, as the route declares.
    return c.body(JSON.stringify(body), 503, { ...err.opts.headers, "Content-Type": "application/problem+json" }) as never;
  });
  app.openapi(hsmHealth, async (c) => {
    const h = await c.get("rt").keystore.health();
    const body = { status: h.status, provider: h.provider, hsm_provider: h.provider, connected: h.connected };
    return h.status === "ok" ? c.json(body, 200) : c.json(body, 503);
  });
}
