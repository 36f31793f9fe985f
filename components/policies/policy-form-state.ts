import type { z } from "zod";
import { APPROVAL_POLICY_ACTIONS, type PolicyResponse, type ZCreatePolicyRequest, type ZPolicyConditions, type ZUpdatePolicyRequest } from "@/lib/contract/policies";
import { isoToLocal, lines, localToIso } from "../agents/form-values";

/** What the grant/edit form holds; turned into the contract's request bodies below. */
export type PolicyForm = {
  principalType: "user" | "agent";
  principalId: string;
  pattern: string;
  read: boolean;
  write: boolean;
  /** Talon may use the value for the principal (execute_http, `talon run`) without returning it; read implies it. */
  use: boolean;
  effect: "allow" | "deny";
  /** Every action the policy grants waits for a human's approval (require_approval). */
  approval: boolean;
  /** An agent's transaction above this many ETH waits for approval; empty: no threshold. */
  txAboveEth: string;
  ips: string;
  windowOn: boolean;
  after: string;
  before: string;
  timezone: string;
  days: number[];
  expires: string;
};

type CreateBody = z.input<typeof ZCreatePolicyRequest>;
type UpdateBody = z.input<typeof ZUpdatePolicyRequest>;
type ConditionsBody = z.input<typeof ZPolicyConditions>;

export const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;

export const emptyPolicyForm = (): PolicyForm => ({
  principalType: "agent",
  principalId: "",
  pattern: "",
  read: true,
  write: false,
  use: false,
  effect: "allow",
  approval: false,
  txAboveEth: "",
  ips: "",
  windowOn: false,
  after: "09:00",
  before: "18:00",
  timezone: "UTC",
  days: [],
  expires: "",
});

const str = (v: unknown, fallback: string) => (typeof v === "string" ? v : fallback);

export function policyFormOf(p: PolicyResponse): PolicyForm {
  const w = p.conditions.time_window;
  const days = w && Array.isArray(w.days_of_week) ? w.days_of_week.filter((d): d is number => typeof d === "number") : [];
  return {
    principalType: p.principal_type,
    principalId: p.principal_id,
    pattern: p.secret_path_pattern,
    read: p.permissions.includes("read"),
    write: p.permissions.includes("write"),
    use: p.permissions.includes("use"),
    effect: p.effect,
    approval: (p.require_approval?.actions.length ?? 0) > 0,
    txAboveEth: p.require_approval?.transaction_above_eth ?? "",
    ips: (p.conditions.ip_allowlist ?? []).join("\n"),
    windowOn: Boolean(w),
    after: str(w?.after, "09:00"),
    before: str(w?.before, "18:00"),
    timezone: str(w?.timezone, "UTC"),
    days,
    expires: isoToLocal(p.expires_at),
  };
}

const permissionsOf = (f: PolicyForm) => [...(f.read ? ["read" as const] : []), ...(f.write ? ["write" as const] : []), ...(f.use ? ["use" as const] : [])];

/** No IP list and no time window: no conditions at all (null). All seven days or none: every day. */
export function conditionsOf(f: PolicyForm): ConditionsBody | null {
  const ips = lines(f.ips);
  const days = [...new Set(f.days)].sort((a, b) => a - b);
  const window = f.windowOn
    ? { after: f.after, before: f.before, timezone: f.timezone.trim() || "UTC", ...(days.length && days.length < 7 ? { days_of_week: days } : {}) }
    : undefined;
  if (!ips.length && !window) return null;
  return { ...(ips.length ? { ip_allowlist: ips } : {}), ...(window ? { time_window: window } : {}) };
}

/** The form's require_approval: null when neither box nor threshold is set. */
export function approvalOf(f: PolicyForm): CreateBody["require_approval"] {
  const tx = f.txAboveEth.trim();
  if (!f.approval && !tx) return null;
  if (!tx) return true;
  return { actions: f.approval ? [...APPROVAL_POLICY_ACTIONS] : [], transaction_above_eth: tx };
}

export function createBody(f: PolicyForm): CreateBody {
  const conditions = conditionsOf(f);
  const approval = approvalOf(f);
  return {
    principal_type: f.principalType,
    principal_id: f.principalId,
    secret_path_pattern: f.pattern.trim(),
    permissions: permissionsOf(f),
    effect: f.effect,
    ...(conditions ? { conditions } : {}),
    ...(f.expires ? { expires_at: localToIso(f.expires) } : {}),
    ...(approval ? { require_approval: approval } : {}),
  };
}

/**
 * The update schema cannot change the principal or the pattern. The expiry is sent only when edited:
 * resending an unchanged one that has passed would be refused as "must be in the future".
 */
export function updateBody(current: PolicyResponse, f: PolicyForm): UpdateBody {
  const body: UpdateBody = { permissions: permissionsOf(f), conditions: conditionsOf(f) };
  if (f.effect !== current.effect) body.effect = f.effect;
  const approval = approvalOf(f);
  if (approval !== null || current.require_approval) body.require_approval = approval;
  if (f.expires !== isoToLocal(current.expires_at)) body.expires_at = f.expires ? localToIso(f.expires) : null;
  return body;
}

/** "Mon–Fri" style summary of ISO weekdays, for the policy list. */
function describeDays(days: number[]): string {
  if (!days.length || days.length === 7) return "every day";
  return days.map((d) => WEEKDAYS[d - 1] ?? String(d)).join(", ");
}

/** Human-readable conditions, one line each; empty when the policy applies unconditionally. */
export function describeConditions(c: PolicyResponse["conditions"]): string[] {
  const out: string[] = [];
  if (c.ip_allowlist?.length) out.push(`From ${c.ip_allowlist.join(", ")}`);
  const w = c.time_window;
  if (w) {
    const days = Array.isArray(w.days_of_week) ? w.days_of_week.filter((d): d is number => typeof d === "number") : [];
    out.push(`${str(w.after, "?")}–${str(w.before, "?")} ${str(w.timezone, "UTC")}, ${describeDays(days)}`);
  }
  return out;
}

/** Human-readable require_approval, one line each; empty when nothing waits for a human. */
export function describeApproval(a: PolicyResponse["require_approval"]): string[] {
  if (!a) return [];
  return [
    ...(a.actions.length ? [`Needs a human's approval to ${a.actions.join(", ")}`] : []),
    ...(a.transaction_above_eth ? [`Transactions above ${a.transaction_above_eth} ETH need approval`] : []),
  ];
}
