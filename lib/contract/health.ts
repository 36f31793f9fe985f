import { z } from "@hono/zod-openapi";

export const ZHealthResponse = z.object({ status: z.enum(["ok"]), service: z.string(), version: z.string() }).openapi("Health");
export const ZHsmHealthResponse = z
  .object({
    status: z.enum(["ok", "error"]),
    provider: z.enum(["pkcs11", "local"]),
    hsm_provider: z.enum(["pkcs11", "local"]),
    connected: z.boolean(),
  })
  .openapi("HsmHealth");
