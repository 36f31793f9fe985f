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

/** Events one incremental verification reads at most; `complete: false` says more remain. */
export const AUDIT_VERIFY_MAX_EVENTS = 10_000;

/** Query of GET /v1/audit/verify. */
export const ZAuditVerifyQuery = z
  .strictObject({
    full: z
      .enum(["true", "false"])
      .optional()
      .openapi({
        param: { name: "full", in: "query" },
        description:
          "`true` (owners only) recomputes the whole chain from its first event, in one call however long, and checks it against the signed checkpoint: this is what detects tampering before the checkpoint",
      }),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(AUDIT_VERIFY_MAX_EVENTS)
      .default(AUDIT_VERIFY_MAX_EVENTS)
      .openapi({ param: { name: "limit", in: "query" }, description: `Events an incremental verification reads at most (default and maximum ${AUDIT_VERIFY_MAX_EVENTS})` }),
  })
  .openapi("AuditVerifyQuery");

export const ZAuditVerifyResponse = z
  .object({
    chain_valid: z.boolean(),
    events_checked: z.number().int().openapi({ description: "Events read by this call" }),
    broken_at_event_id: z.string().nullable().openapi({ description: "The first event whose link in the chain does not hold" }),
    complete: z.boolean().openapi({ description: "false: events past `verified_through_seq` remain unverified; call again to continue from there" }),
    verified_through_seq: z.number().int().openapi({ description: "The chain holds from its first event through this sequence number" }),
    head_seq: z.number().int().openapi({ description: "The org's newest event when this verification began" }),
    mode: z.enum(["incremental", "full"]).openapi({ description: "incremental: from the signed checkpoint on; full: from the first event" }),
    checkpoint: z.enum(["none", "valid", "rejected"]).openapi({
      description:
        "The stored checkpoint: none yet; valid (its signature held); rejected (its signature did not verify, or it was signed with another key: it was ignored and the chain verified from its first event)",
    }),
    detail: z.string().nullable().openapi({ description: "Why the chain does not hold, when it does not" }),
  })
  .openapi("AuditVerify");

export type AuditQuery = z.infer<typeof ZAuditQuery>;
export type AuditEventResponse = z.infer<typeof ZAuditEvent>;
export type AuditVerifyResponse = z.infer<typeof ZAuditVerifyResponse>;
export type AuditVerifyQuery = z.infer<typeof ZAuditVerifyQuery>;
