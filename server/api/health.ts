import { createRoute } from "@hono/zod-openapi";
import { ZHealthResponse, ZHsmHealthResponse } from "../../lib/contract/health";
import type { ApiApp } from "../http/pipeline";
import { TALON_VERSION } from "../version";

const health = createRoute({
  method: "get",
  path: "/v1/health",
  tags: ["Health"],
  summary: "Liveness",
  security: [],
  responses: { 200: { description: "Service is up", content: { "application/json": { schema: ZHealthResponse } } } },
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
  app.openapi(health, (c) => c.json({ status: "ok" as const, service: "talon", version: TALON_VERSION }, 200));
  app.openapi(hsmHealth, async (c) => {
    const h = await c.get("rt").keystore.health();
    const body = { status: h.status, provider: h.provider, hsm_provider: h.provider, connected: h.connected };
    return h.status === "ok" ? c.json(body, 200) : c.json(body, 503);
  });
}
