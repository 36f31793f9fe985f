import { createRoute } from "@hono/zod-openapi";
import { ZProblem } from "../../lib/contract/common";
import { ZHealthResponse, ZHsmHealthResponse } from "../../lib/contract/health";
import { checkReadiness } from "../health/readiness";
import type { ApiApp } from "../http/pipeline";
import { TALON_VERSION } from "../version";

const health = createRoute({
  method: "get",
  path: "/v1/health",
  tags: ["Health"],
  summary: "Readiness: the database answers and the keystore is usable",
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

export function registerHealthRoutes(app: ApiApp) {
  app.openapi(health, async (c) => {
    const unavailable = await checkReadiness(c.get("rt"));
    if (unavailable) throw unavailable;
    return c.json({ status: "ok" as const, service: "talon", version: TALON_VERSION }, 200);
  });
  app.openapi(hsmHealth, async (c) => {
    const h = await c.get("rt").keystore.health();
    const body = { status: h.status, provider: h.provider, hsm_provider: h.provider, connected: h.connected };
    return h.status === "ok" ? c.json(body, 200) : c.json(body, 503);
  });
}
