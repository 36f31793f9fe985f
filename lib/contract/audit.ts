import { z } from "@hono/zod-openapi";
import { ZIsoDate, ZUuid } from "./common";

/** Query of GET /v1/audit/events. `actor_id` takes a bare id or the stored `user:<id>` / `agent:<id>` form. */
export const ZAuditQuery = z
  .strictObject({
    action: z.string().max(64).optional().openapi({ example: "secret.read" }),
    actor_id: z.string().max(80).optional(),
    resource_id: z.string().max(255).optional(),
    path: z
      .string()
      .max(512)
      .regex(/^[a-zA-Z0-9_\-/]+$/, "may contain only letters, digits, '_', '-' and '/'")
      .optional()
      .openapi({ description: "Events about secrets whose path starts with this (a path, or a folder like `db/`)", example: "db/" }),
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

/** Query of GET /v1/audit/export: the org's chained events with created_at in [from, to], oldest first. */
export const ZAuditExportQuery = z
  .strictObject({
    from: ZIsoDate.optional().openapi({ param: { name: "from", in: "query" }, description: "Events created at or after this instant" }),
    to: ZIsoDate.optional().openapi({ param: { name: "to", in: "query" }, description: "Events created at or before this instant" }),
    format: z
      .enum(["ndjson", "csv"])
      .default("ndjson")
      .openapi({ param: { name: "format", in: "query" }, description: "ndjson: one JSON object per line (lossless); csv: RFC 4180 with a header row" }),
  })
  .openapi("AuditExportQuery");

/**
 * One exported event: every field the chain hash covers, under its chained value, so a SIEM can
 * recompute `hash` = SHA-256 (hex) of the JSON array
 * `[1, id, org_id, seq, action, actor, actor_type, resource_type, resource_id, details, ip_address, request_id, created_at_ms, prev_hash]`
 * (`details` is the stored JSON text, `created_at_ms` the epoch milliseconds of `created_at`) and check
 * that each event's `prev_hash` is the previous event's `hash`. Documented in docs/operations/audit-export.md.
 */
export const ZAuditExportRecord = z
  .object({
    seq: z.number().int(),
    id: ZUuid,
    created_at: z.string(),
    org_id: z.string(),
    action: z.string(),
    actor: z.string().openapi({ description: "The actor as chained: `user:<id>`, `agent:<id>` or `anonymous`" }),
    actor_type: z.enum(["user", "agent", "anonymous"]),
    resource_type: z.string(),
    resource_id: z.string(),
    details: z.string().openapi({ description: "The event's details as the stored JSON text (hashed as is)" }),
    ip_address: z.string(),
    request_id: z.string(),
    prev_hash: z.string(),
    hash: z.string(),
  })
  .openapi("AuditExportRecord");

/** Column order of the CSV export (its header row), the same names as the NDJSON fields. */
export const AUDIT_EXPORT_COLUMNS = Object.keys(ZAuditExportRecord.shape) as (keyof z.infer<typeof ZAuditExportRecord>)[];

export type AuditQuery = z.infer<typeof ZAuditQuery>;
export type AuditExportQuery = z.infer<typeof ZAuditExportQuery>;
export type AuditExportRecord = z.infer<typeof ZAuditExportRecord>;
export type AuditEventResponse = z.infer<typeof ZAuditEvent>;
export type AuditVerifyResponse = z.infer<typeof ZAuditVerifyResponse>;
export type AuditVerifyQuery = z.infer<typeof ZAuditVerifyQuery>;
