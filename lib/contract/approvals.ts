import { z } from "@hono/zod-openapi";
import { ZUuid } from "./common";

/**
 * Human approval of sensitive access (issue 14): a policy with `require_approval` makes a matching
 * request answer 403 `approval_required` with an `approval_request_id`; a human of the org approves
 * (once, or for a time window) or denies; the requester retries or polls. Break-glass is an owner's
 * or admin's self-granted, time-boxed access to a vault, recorded as an approval request too.
 */
export const APPROVAL_STATUSES = ["pending", "approved", "denied", "expired", "used"] as const;
export const APPROVAL_REQUEST_ACTIONS = ["read", "write", "use", "transaction", "break_glass"] as const;
/** How long a pending request waits for a human, and how long a single-use approval stays usable. */
export const APPROVAL_PENDING_SECONDS = 24 * 3600;
/** The longest window an approval may grant (7 days). */
export const APPROVAL_WINDOW_MAX_SECONDS = 7 * 24 * 3600;
/** The reason an agent sends with its request (header X-Approval-Reason or field `reason`). */
export const APPROVAL_REASON_MAX = 500;
export const APPROVAL_NOTE_MAX = 500;
export const BREAK_GLASS_REASON_MIN = 20;
export const BREAK_GLASS_MAX_SECONDS = 4 * 3600;

export const ZApprovalResponse = z
  .object({
    id: ZUuid,
    vault_id: ZUuid.nullable(),
    vault_name: z.string().nullable(),
    principal_type: z.enum(["user", "agent"]),
    principal_id: ZUuid,
    principal_name: z.string().nullable().openapi({ description: "The agent's name or the user's email, when it still exists" }),
    action: z.enum(APPROVAL_REQUEST_ACTIONS),
    resource: z.string().openapi({ description: "The secret path, or a transaction's summary; `**` for break-glass" }),
    reason: z.string(),
    status: z.enum(APPROVAL_STATUSES).openapi({ description: "pending → approved | denied | expired; a single-use approval becomes used once taken" }),
    detail: z.record(z.string(), z.unknown()).openapi({ description: "What was asked (chain, value …); never a secret value" }),
    break_glass: z.boolean(),
    created_at: z.string(),
    expires_at: z.string().openapi({ description: "Pending: when the request lapses. Approved: when the approval can no longer be used" }),
    decided_by: z.string().nullable().openapi({ description: '"user:<id>"' }),
    decided_at: z.string().nullable(),
    decision_note: z.string(),
    grant_until: z.string().nullable().openapi({ description: "A window approval: usable until then" }),
    uses_left: z.number().int().nullable().openapi({ description: "A single-use approval: 1 until taken, then 0" }),
  })
  .openapi("ApprovalRequest");

export const ZApprovalListResponse = z.object({ approvals: z.array(ZApprovalResponse), total: z.number().int() }).openapi("ApprovalList");

export const ZApprovalListQuery = z.strictObject({
  status: z.enum(APPROVAL_STATUSES).optional(),
  vault_id: ZUuid.optional(),
  principal_id: ZUuid.optional(),
  break_glass: z.enum(["true", "false"]).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

export const ZApproveRequest = z
  .strictObject({
    duration_seconds: z
      .number()
      .int()
      .min(60)
      .max(APPROVAL_WINDOW_MAX_SECONDS)
      .optional()
      .openapi({ description: "Approve for a time window (e.g. 3600 = one hour); omitted = the requester may do it exactly once", example: 3600 }),
    note: z.string().max(APPROVAL_NOTE_MAX).optional(),
  })
  .openapi("ApproveRequest");

export const ZDenyRequest = z.strictObject({ note: z.string().max(APPROVAL_NOTE_MAX).optional() }).openapi("DenyRequest");

export const ZBreakGlassRequest = z
  .strictObject({
    reason: z
      .string()
      .trim()
      .min(BREAK_GLASS_REASON_MIN, `must be at least ${BREAK_GLASS_REASON_MIN} characters: say why the normal rules are not enough`)
      .max(APPROVAL_REASON_MAX),
    duration_seconds: z.number().int().min(60).max(BREAK_GLASS_MAX_SECONDS).default(3600).openapi({ description: "At most 4 hours", example: 3600 }),
  })
  .openapi("BreakGlassRequest");

export type ApprovalResponse = z.infer<typeof ZApprovalResponse>;
export type ApprovalListQuery = z.infer<typeof ZApprovalListQuery>;
export type ApproveRequest = z.infer<typeof ZApproveRequest>;
export type DenyRequest = z.infer<typeof ZDenyRequest>;
export type BreakGlassRequest = z.infer<typeof ZBreakGlassRequest>;
