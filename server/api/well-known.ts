import { createRoute, z } from "@hono/zod-openapi";
import { x402Discovery } from "../billing/x402-payments";
import { type ApiApp, publicCtxOf } from "../http/pipeline";
import { x402WellKnown } from "./x402";

const ZJwks = z
  .object({ keys: z.array(z.object({ kty: z.string(), crv: z.string(), x: z.string(), kid: z.string(), alg: z.string(), use: z.string() })) })
  .openapi("Jwks");

const jwks = createRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  tags: ["Auth"],
  summary: "Public keys that verify Talon's JWTs",
  security: [],
  responses: { 200: { description: "JSON Web Key Set", content: { "application/json": { schema: ZJwks } } } },
});

export function registerWellKnownRoutes(app: ApiApp) {
  app.openapi(jwks, async (c) => {
    const body = { keys: [await c.get("rt").keystore.signingJwk()] };
    // Replaces the pipeline's default `no-store`: this public document may be cached.
    return c.json(body, 200, { "Cache-Control": "public, max-age=300" });
  });
  app.openapi(x402WellKnown, async (c) => c.json(await x402Discovery(publicCtxOf(c)), 200, { "Cache-Control": "public, max-age=300" }));
}
