import { z } from "@hono/zod-openapi";
import { ZIsoDate, ZUuid } from "./common";

/** Query of GET /v1/audit/events. `actor_id` takes a bare id or the stored `user:<id>` / `agent:<id>` form. */
export const ZAuditQuery = z
  .strictObject({
    action: z.string().max(64).optional().openapi({ example: "secret.read" }),
    actor_id: z.string().max(80).optional(),
    resource_id: z.string().max(255).optional(),
    from: ZIsoDate.optional(),
    to: ZIsoDate.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
  })
  .openapi("AuditQuery");

export const ZAuditEvent = z
  .object({
    id: ZUuid,
    action: z.string(),
    actor_id: z.string().openapi({ description: "Id of the user or agent (\"anonymous\" for unauthenticated callers)" }),
    actor_type: z.enum(["user", "agent", "anonymous"]),
    resource_type: z.string(),
    resource_id: z.string(),
    org_id: z.string(),
    details: z.record(z.string(), z.unknown()).openapi({ type: "object" }),
    ip_address: z.string(),
    created_at: z.string(),
    seq: z.number().int().nullable().openapi({ description: "Position in the org's hash chain" }),
    hash: z.string().nullable(),
  })
  .openapi("AuditEvent");

export const ZAuditEventList = z.object({ events: z.array(ZAuditEvent), count: z.number().int() }).openapi("AuditEventList");

export const ZAuditVerifyResponse = z
  .object({
    chain_valid: z.boolean(),
    events_checked: z.number().int(),
    broken_at_event_id: z.string().nullable().openapi({ description: "The first event whose link in the chain does not hold" }),
  })
  .openapi("AuditVerify");

export type AuditQuery = z.infer<typeof ZAuditQuery>;
export type AuditEventResponse = z.infer<typeof ZAuditEvent>;
export type AuditVerifyResponse = z.infer<typeof ZAuditVerifyResponse>;
