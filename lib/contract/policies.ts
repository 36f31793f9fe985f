import { z } from "@hono/zod-openapi";
import { cidrProblem } from "../cidr";
import { PATH_PATTERN_MAX, pathPatternProblem } from "../path-glob";
import { timeWindowProblem } from "../time-window";
import { ZIsoDate, ZUuid } from "./common";

export const POLICY_PERMISSIONS = ["read", "write", "use"] as const;
export const POLICY_EFFECTS = ["allow", "deny"] as const;
export const PRINCIPAL_TYPES = ["user", "agent"] as const;
export const IP_ALLOWLIST_MAX = 64;
const INT32_MAX = 2_147_483_647;

export const ZPathPattern = z
  .string()
  .max(PATH_PATTERN_MAX)
  .superRefine((p, ctx) => {
    const problem = pathPatternProblem(p);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .openapi({ description: "Glob on `/`-separated segments: `*` one segment, `**` any depth", example: "api-keys/*" });

const ZPermissions = z
  .array(z.enum(POLICY_PERMISSIONS))
  .min(1)
  .max(POLICY_PERMISSIONS.length)
  .refine((a) => new Set(a).size === a.length, "must not repeat a permission")
  .openapi({
    description:
      "`read` (get, list, versions), `write` (put, rotate, disable, delete) and/or `use` (Talon uses the value for the caller — credential-injecting HTTP calls, `talon run` — but never returns it; `read` implies `use`)",
    example: ["read"],
  });

const ZCidr = z
  .string()
  .max(64)
  .superRefine((c, ctx) => {
    const problem = cidrProblem(c);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

const HHMM = z.string().max(5).regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM (24 h)");

export const ZTimeWindow = z
  .strictObject({
    after: HHMM.openapi({ example: "08:00" }),
    before: HHMM.openapi({ example: "20:00" }),
    timezone: z.string().max(64).default("UTC").openapi({ example: "Europe/Paris" }),
    days_of_week: z
      .array(z.number().int().min(1).max(7))
      .max(7)
      .optional()
      .openapi({ description: "ISO weekdays, 1 = Monday … 7 = Sunday; for a window spanning midnight, the day it opened" }),
  })
  .superRefine((w, ctx) => {
    const problem = timeWindowProblem(w);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
    if (w.after === w.before) ctx.addIssue({ code: "custom", message: "after and before must differ", path: ["before"] });
  });

const SPEC_DAYS: Record<string, number> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7, monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6, sunday: 7 };

/**
 * The other spelling of a window that 1Claw's clients send: `{start, end, timezone, days}` with day
 * names ("mon" or "monday", any case). It is normalised to Talon's form (`after`, `before`,
 * `days_of_week` as ISO numbers), which is what is stored, enforced and returned.
 */
export const ZSpecTimeWindow = z
  .strictObject({
    start: HHMM.openapi({ example: "09:00" }),
    end: HHMM.openapi({ example: "17:00" }),
    timezone: z.string().max(64).default("UTC"),
    days: z
      .array(
        z
          .string()
          .max(9)
          .refine((d) => d.toLowerCase() in SPEC_DAYS, "must be a weekday name such as mon or monday"),
      )
      .max(7)
      .optional(),
  })
  .transform((w) => ({ after: w.start, before: w.end, timezone: w.timezone, ...(w.days ? { days_of_week: [...new Set(w.days.map((d) => SPEC_DAYS[d.toLowerCase()]!))].sort() } : {}) }));

const isSpecWindow = (v: unknown) => typeof v === "object" && v !== null && ["start", "end", "days"].some((k) => k in v);
const SPEC_NAMES: Record<string, string> = { after: "start", before: "end", days_of_week: "days" };

/** Either spelling of a time window, told apart by its keys, each validated with its own field names. */
export const ZTimeWindowInput = z
  .unknown()
  .transform((v, ctx) => {
    const spec = isSpecWindow(v) ? ZSpecTimeWindow.safeParse(v) : null;
    if (spec && !spec.success) {
      for (const issue of spec.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
      return z.NEVER;
    }
    const parsed = ZTimeWindow.safeParse(spec ? spec.data : v);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      const path = spec ? issue.path.map((p, i) => (i === 0 && typeof p === "string" ? (SPEC_NAMES[p] ?? p) : p)) : issue.path;
      // Re-raised as they were (unknown keys keep their names), under the client's own field names.
      ctx.addIssue({ ...issue, path } as Parameters<typeof ctx.addIssue>[0]);
    }
    return z.NEVER;
  })
  .openapi({
    type: "object",
    description:
      'Talon\'s {after, before, timezone, days_of_week: [1..7]} or the spec\'s {start, end, timezone, days: ["mon", …]}; stored and returned in Talon\'s form',
    example: { after: "08:00", before: "20:00", timezone: "UTC", days_of_week: [1, 2, 3, 4, 5] },
  });

/** Checked on every request; a policy whose conditions do not hold does not apply (allow or deny). */
export const ZPolicyConditions = z
  .strictObject({
    ip_allowlist: z
      .array(ZCidr)
      .max(IP_ALLOWLIST_MAX)
      .optional()
      .openapi({ description: "IPv4/IPv6 CIDRs the request must come from; empty = any address", example: ["10.0.0.0/8"] }),
    time_window: ZTimeWindowInput.optional(),
  })
  .openapi("PolicyConditions");

const isEmpty = (v: unknown) =>
  v === null || v === undefined || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && Object.keys(v as object).length === 0);

/** Fields the public SDK may send that Talon does not implement: accepted only when empty. */
const unsupported = (name: string) =>
  z
    .unknown()
    .optional()
    .superRefine((v, ctx) => {
      if (!isEmpty(v)) ctx.addIssue({ code: "custom", message: `${name} is not supported by Talon; omit it or send null` });
    })
    .openapi({ description: "Not supported: only null or empty is accepted" });

/** Actions a policy may put behind a human's approval (`use` also when `read` is named: read implies use). */
export const APPROVAL_POLICY_ACTIONS = ["read", "write", "use"] as const;

/** require_approval as stored and returned: which of the policy's actions wait for a human, and a transaction threshold. */
export const ZStoredApproval = z
  .object({
    actions: z.array(z.enum(APPROVAL_POLICY_ACTIONS)),
    transaction_above_eth: z.string().nullable(),
  })
  .openapi("RequireApproval");

/**
 * `true`: every action the policy grants waits for a human's approval; an object names the actions
 * (default all) and/or `transaction_above_eth`: an agent's transaction above this value (ETH, as a
 * decimal string) waits for approval; `false`/`null` clears it.
 */
export const ZRequireApproval = z
  .union([
    z.boolean(),
    z.strictObject({
      actions: z
        .array(z.enum(APPROVAL_POLICY_ACTIONS))
        .max(APPROVAL_POLICY_ACTIONS.length)
        .refine((a) => new Set(a).size === a.length, "must not repeat an action")
        .optional(),
      transaction_above_eth: z
        .string()
        .max(40)
        .regex(/^\d{1,20}(\.\d{1,18})?$/, "must be a decimal number of ETH such as 0.5")
        .optional(),
    }),
  ])
  .nullable()
  .optional()
  .openapi({
    description:
      "`true`: every action this policy grants waits for a human's approval (403 `approval_required` with an `approval_request_id`); or `{actions: [read|write|use], transaction_above_eth: \"0.5\"}`; `false` or null: none",
    example: { actions: ["read"] },
  });

const ZFutureDate = ZIsoDate.refine((d) => Date.parse(d) > Date.now(), "must be in the future");

export const ZCreatePolicyRequest = z
  .strictObject({
    principal_type: z.enum(PRINCIPAL_TYPES),
    principal_id: ZUuid,
    secret_path_pattern: ZPathPattern.default("**"),
    permissions: ZPermissions.default(["read"]),
    conditions: ZPolicyConditions.nullable().optional(),
    expires_at: ZFutureDate.nullable().optional(),
    effect: z.enum(POLICY_EFFECTS).default("allow").openapi({ description: "A matching deny beats every allow" }),
    priority: z.number().int().min(0).max(INT32_MAX).default(0).openapi({ description: "Stored and returned; deny-over-allow decides, not priority" }),
    policy_schema_version: z.literal(1).nullable().optional(),
    attribute_conditions: unsupported("attribute_conditions"),
    consensus_trigger: unsupported("consensus_trigger"),
    tx_conditions: unsupported("tx_conditions"),
    require_approval: ZRequireApproval,
  })
  .openapi("CreatePolicyRequest");

export const ZUpdatePolicyRequest = z
  .strictObject({
    permissions: ZPermissions.optional(),
    conditions: ZPolicyConditions.nullable().optional(),
    expires_at: ZFutureDate.nullable().optional(),
    effect: z.enum(POLICY_EFFECTS).optional(),
    priority: z.number().int().min(0).max(INT32_MAX).optional(),
    require_approval: ZRequireApproval,
  })
  .refine((b) => Object.keys(b).length > 0, "name at least one of permissions, conditions, expires_at, effect, priority, require_approval")
  .openapi("UpdatePolicyRequest");

export const ZPolicyParams = z.object({
  id: ZUuid.openapi({ param: { name: "id", in: "path" } }),
  pid: ZUuid.openapi({ param: { name: "pid", in: "path" } }),
});

export const ZPolicyResponse = z
  .object({
    id: ZUuid,
    vault_id: ZUuid,
    secret_path_pattern: z.string(),
    principal_type: z.enum(PRINCIPAL_TYPES),
    principal_id: ZUuid,
    permissions: z.array(z.enum(POLICY_PERMISSIONS)),
    conditions: z.object({ ip_allowlist: z.array(z.string()).optional(), time_window: z.record(z.string(), z.unknown()).optional() }),
    effect: z.enum(POLICY_EFFECTS),
    priority: z.number().int(),
    policy_schema_version: z.number().int(),
    expires_at: z.string().nullable(),
    created_by: z.string().openapi({ description: '"user:<id>" or "agent:<id>"' }),
    created_by_type: z.enum(["user", "agent"]).openapi({ description: "Who created the policy: a person or an agent" }),
    created_at: z.string(),
    require_approval: ZStoredApproval.optional().openapi({ description: "Present only on a policy that requires a human's approval" }),
  })
  .openapi("Policy");

export const ZPolicyListResponse = z.object({ policies: z.array(ZPolicyResponse) }).openapi("PolicyList");

export type PolicyPermission = (typeof POLICY_PERMISSIONS)[number];
export type PolicyConditions = z.infer<typeof ZPolicyConditions>;
export type CreatePolicyRequest = z.infer<typeof ZCreatePolicyRequest>;
export type UpdatePolicyRequest = z.infer<typeof ZUpdatePolicyRequest>;
export type PolicyResponse = z.infer<typeof ZPolicyResponse>;
export type StoredApproval = z.infer<typeof ZStoredApproval>;

/** The stored form of a require_approval input: null when nothing needs approval. */
export function normaliseApproval(v: z.infer<typeof ZRequireApproval>): StoredApproval | null {
  if (v === undefined || v === null || v === false) return null;
  if (v === true) return { actions: [...APPROVAL_POLICY_ACTIONS], transaction_above_eth: null };
  const actions = v.actions ?? (v.transaction_above_eth ? [] : [...APPROVAL_POLICY_ACTIONS]);
  if (actions.length === 0 && !v.transaction_above_eth) return null;
  return { actions, transaction_above_eth: v.transaction_above_eth ?? null };
}

/** A stored value read back; anything unreadable is treated as "everything needs approval" (fails closed). */
export function parseStoredApproval(json: string | null): StoredApproval | null {
  if (json === null) return null;
  try {
    const parsed = ZStoredApproval.safeParse(JSON.parse(json));
    if (parsed.success) return parsed.data;
  } catch {
    /* fall through */
  }
  return { actions: [...APPROVAL_POLICY_ACTIONS], transaction_above_eth: null };
}
