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

export const READINESS_PARTS = ["database", "migrations", "keystore", "audit"] as const;
export type ReadinessPart = (typeof READINESS_PARTS)[number];

const ZReadinessPart = z
  .object({
    status: z.enum(["ok", "fail", "skipped"]).openapi({ description: "skipped: not checked because a part it needs (the database) failed" }),
    detail: z.string().max(500),
  })
  .strict();

const ZParts = z
  .object({
    database: ZReadinessPart.openapi({ description: "A query on a real table answers within 3 s" }),
    migrations: ZReadinessPart.openapi({ description: "The newest applied migration is the newest this build ships (none pending, failed or unknown)" }),
    keystore: ZReadinessPart.openapi({ description: "The keystore reports itself usable and its self-test (wrap/unwrap, sign/verify) passed within the last 60 s" }),
    audit: ZReadinessPart.openapi({ description: "The audit writer is not stuck: no flush in flight and no event waiting for more than 45 s (a flush may legitimately take up to 30 s)" }),
  })
  .strict();

export const ZReadinessResponse = z
  .object({ status: z.literal("ready"), service: z.string().max(64), version: z.string().max(64), parts: ZParts })
  .strict()
  .openapi("Readiness");

export type ReadinessParts = z.infer<typeof ZParts>;
