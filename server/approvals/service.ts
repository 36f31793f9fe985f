import { randomUUID } from "node:crypto";
import {
  APPROVAL_PENDING_SECONDS,
  APPROVAL_REQUEST_ACTIONS,
  type ApprovalListQuery,
  type ApprovalResponse,
  type ApproveRequest,
  type BreakGlassRequest,
  type DenyRequest,
} from "../../lib/contract/approvals";
import { assertSameOrg, isVaultCreator } from "../access/evaluate";
import { isSystemVault } from "../access/system-vault";
import { ApiError } from "../http/errors";
import { type Ctx, principalRef, requireInteractiveUser, type UserCtx } from "../http/principal";
import type { z } from "zod";
import type { ZPasskeySignInInput } from "../../lib/contract/passkeys";
import { userHasPasskey, verifyPasskeyStepUp } from "../identity/passkeys";
import { loadVault } from "../vaults/service";
import { mailMany, quoted, vaultOwnerEmails } from "./notify";

/**
 * Approval requests (issue 14) seen and decided by people. Who sees what:
 *   - org owners and admins: every request of the org;
 *   - other members: the requests on vaults they created, and their own;
 *   - an agent: its own requests only (it polls GET /v1/approvals/{id});
 *   - anyone else, and every other org: 404.
 * Who decides: an org owner or admin, or the vault's creator — never the requester — signed in
 * interactively (a personal API key, which an agent might hold, cannot approve).
 */
type Row = {
  id: string;
  orgId: string;
  vaultId: string | null;
  principalType: string;
  principalId: string;
  action: string;
  resource: string;
  reason: string;
  status: string;
  detail: string;
  expiresAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  decisionNote: string;
  grantUntil: Date | null;
  usesLeft: number | null;
  breakGlass: boolean;
  createdAt: Date;
};

/** Pending or approved past its expiry reads as expired, whether or not a sweep has written it yet. */
function effectiveStatus(r: Row, now: Date): ApprovalResponse["status"] {
  if ((r.status === "pending" || r.status === "approved") && r.expiresAt.getTime() <= now.getTime()) return "expired";
  return r.status as ApprovalResponse["status"];
}

function detailOf(json: string): Record<string, unknown> {
  try {
    const v = JSON.parse(json) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

async function toResponses(ctx: Ctx, rows: Row[]): Promise<ApprovalResponse[]> {
  const vaultIds = [...new Set(rows.map((r) => r.vaultId).filter((v): v is string => v !== null))];
  const agentIds = [...new Set(rows.filter((r) => r.principalType === "agent").map((r) => r.principalId))];
  const userIds = [...new Set(rows.filter((r) => r.principalType === "user").map((r) => r.principalId))];
  const orgId = ctx.principal.orgId;
  const [vaults, agents, users] = await Promise.all([
    vaultIds.length ? ctx.rt.db.vault.findMany({ where: { orgId, id: { in: vaultIds } }, select: { id: true, name: true } }) : [],
    agentIds.length ? ctx.rt.db.agent.findMany({ where: { orgId, id: { in: agentIds } }, select: { id: true, name: true } }) : [],
    userIds.length ? ctx.rt.db.user.findMany({ where: { orgId, id: { in: userIds } }, select: { id: true, email: true } }) : [],
  ]);
  const vaultName = new Map(vaults.map((v) => [v.id, v.name]));
  const names = new Map<string, string>([...agents.map((a) => [a.id, a.name] as const), ...users.map((u) => [u.id, u.email] as const)]);
  const now = new Date();
  return rows.map((r) => ({
    id: r.id,
    vault_id: r.vaultId,
    vault_name: r.vaultId ? (vaultName.get(r.vaultId) ?? null) : null,
    principal_type: r.principalType === "agent" ? "agent" : "user",
    principal_id: r.principalId,
    principal_name: names.get(r.principalId) ?? null,
    action: (APPROVAL_REQUEST_ACTIONS as readonly string[]).includes(r.action) ? (r.action as ApprovalResponse["action"]) : "read",
    resource: r.resource,
    reason: r.reason,
    status: effectiveStatus(r, now),
    detail: detailOf(r.detail),
    break_glass: r.breakGlass,
    created_at: r.createdAt.toISOString(),
    expires_at: r.expiresAt.toISOString(),
    decided_by: r.decidedBy,
    decided_at: r.decidedAt?.toISOString() ?? null,
    decision_note: r.decisionNote,
    grant_until: r.grantUntil?.toISOString() ?? null,
    uses_left: r.usesLeft,
  }));
}

const isOrgAdmin = (ctx: Ctx) => ctx.principal.kind === "user" && (ctx.principal.role === "owner" || ctx.principal.role === "admin");

/** The where-clause of what the caller may see (see the header comment). */
async function visibleWhere(ctx: Ctx) {
  const p = ctx.principal;
  if (p.kind === "agent") return { orgId: p.orgId, principalType: "agent", principalId: p.agentId };
  if (isOrgAdmin(ctx)) return { orgId: p.orgId };
  const mine = await ctx.rt.db.vault.findMany({ where: { orgId: p.orgId, createdBy: p.userId, createdByType: "user" }, select: { id: true }, take: 1000 });
  return { orgId: p.orgId, OR: [{ vaultId: { in: mine.map((v) => v.id) } }, { principalType: "user", principalId: p.userId }] };
}

export async function listApprovals(ctx: Ctx, q: ApprovalListQuery): Promise<{ approvals: ApprovalResponse[]; total: number }> {
  const now = new Date();
  const status =
    q.status === undefined
      ? {}
      : q.status === "expired"
        ? { OR: [{ status: "expired" }, { status: { in: ["pending", "approved"] }, expiresAt: { lte: now } }] }
        : q.status === "pending" || q.status === "approved"
          ? { status: q.status, expiresAt: { gt: now } }
          : { status: q.status };
  const where = {
    AND: [
      await visibleWhere(ctx),
      status,
      q.vault_id ? { vaultId: q.vault_id } : {},
      q.principal_id ? { principalId: q.principal_id } : {},
      q.break_glass ? { breakGlass: q.break_glass === "true" } : {},
    ],
  };
  const [rows, total] = await Promise.all([
    ctx.rt.db.approvalRequest.findMany({ where, orderBy: [{ createdAt: "desc" }, { id: "asc" }], take: q.limit, skip: q.offset }),
    ctx.rt.db.approvalRequest.count({ where }),
  ]);
  return { approvals: await toResponses(ctx, rows), total };
}

async function loadVisible(ctx: Ctx, id: string): Promise<Row> {
  const row = await ctx.rt.db.approvalRequest.findFirst({ where: { AND: [{ id }, await visibleWhere(ctx)] } });
  if (!row) throw ApiError.notFound("Approval request not found");
  return row;
}

export async function getApproval(ctx: Ctx, id: string): Promise<ApprovalResponse> {
  return (await toResponses(ctx, [await loadVisible(ctx, id)]))[0]!;
}

/** The decider: interactive, not the requester, and an org owner/admin or the vault's creator. */
async function loadDecidable(anyCtx: Ctx, id: string, what: string): Promise<{ ctx: UserCtx; row: Row }> {
  const ctx = requireInteractiveUser(anyCtx, `${what} an approval request`);
  const row = await loadVisible(ctx, id);
  if (row.principalType === "user" && row.principalId === ctx.principal.userId) {
    throw ApiError.forbidden("You cannot decide your own approval request: another owner or admin, or the vault's creator, must.");
  }
  if (row.breakGlass) throw ApiError.conflict("A break-glass grant is not a request: it cannot be approved or denied");
  if (!isOrgAdmin(ctx)) {
    const vault = row.vaultId ? await ctx.rt.db.vault.findFirst({ where: { id: row.vaultId, orgId: ctx.principal.orgId } }) : null;
    if (!vault || !isVaultCreator(ctx.principal, vault)) throw ApiError.forbidden("Only an org owner or admin, or the vault's creator, can decide this request");
  }
  return { ctx, row };
}

function notPending(row: Row): ApiError {
  const s = effectiveStatus(row, new Date());
  return ApiError.conflict(`This approval request is ${s}, not pending: it can no longer be decided${s === "expired" ? "; the requester can ask again" : ""}`);
}

type PasskeyAssertion = z.output<typeof ZPasskeySignInInput>;

/**
 * Approves a pending request. An approver who has registered a passkey must confirm with it (a fresh
 * assertion, `stepUp`, from the dashboard's approve dialog): a stolen session alone cannot approve.
 * The REST route has no WebAuthn ceremony (it is bound to the dashboard's origin), so such an
 * approver is sent to the dashboard.
 */
export async function approveApproval(anyCtx: Ctx, id: string, body: ApproveRequest, stepUp?: PasskeyAssertion): Promise<ApprovalResponse> {
  const { ctx, row } = await loadDecidable(anyCtx, id, "Approving");
  const withPasskey = await userHasPasskey(ctx);
  if (withPasskey && !stepUp) {
    throw ApiError.forbidden("You have a passkey, so approving needs it: approve this request on the dashboard's Approvals page, which asks for your passkey.");
  }
  if (withPasskey && stepUp) await verifyPasskeyStepUp(ctx, stepUp, "this approval");
  const now = new Date();
  const window = body.duration_seconds !== undefined;
  const grantUntil = window ? new Date(now.getTime() + body.duration_seconds! * 1000) : null;
  // A single-use approval stays usable for as long as a pending request waits.
  const expiresAt = grantUntil ?? new Date(now.getTime() + APPROVAL_PENDING_SECONDS * 1000);
  const { count } = await ctx.rt.db.approvalRequest.updateMany({
    where: { id, status: "pending", expiresAt: { gt: now } },
    data: { status: "approved", pendingKey: null, decidedBy: principalRef(ctx.principal), decidedAt: now, decisionNote: body.note ?? "", grantUntil, usesLeft: window ? null : 1, expiresAt },
  });
  if (count !== 1) throw notPending(row);
  await ctx.rt.audit.record(ctx, {
    action: "approval.approved",
    resourceType: "approval",
    resourceId: id,
    details: {
      vault_id: row.vaultId,
      action: row.action,
      resource: row.resource,
      requester: `${row.principalType}:${row.principalId}`,
      duration_seconds: body.duration_seconds ?? null,
      single_use: !window,
      step_up: withPasskey ? "passkey" : null,
    },
  });
  return getApproval(ctx, id);
}

export async function denyApproval(anyCtx: Ctx, id: string, body: DenyRequest): Promise<ApprovalResponse> {
  const { ctx, row } = await loadDecidable(anyCtx, id, "Denying");
  const now = new Date();
  const { count } = await ctx.rt.db.approvalRequest.updateMany({
    where: { id, status: "pending", expiresAt: { gt: now } },
    data: { status: "denied", pendingKey: null, decidedBy: principalRef(ctx.principal), decidedAt: now, decisionNote: body.note ?? "" },
  });
  if (count !== 1) throw notPending(row);
  await ctx.rt.audit.record(ctx, {
    action: "approval.denied",
    resourceType: "approval",
    resourceId: id,
    details: { vault_id: row.vaultId, action: row.action, resource: row.resource, requester: `${row.principalType}:${row.principalId}` },
  });
  return getApproval(ctx, id);
}

/**
 * Break-glass: an org owner or admin grants themselves time-boxed access to a vault, past its deny
 * policies, with a mandatory reason. Recorded as an approved request marked break_glass, audited
 * `break_glass.used` (each access through it `break_glass.access`) and mailed to the other owners.
 */
export async function breakGlass(anyCtx: Ctx, vaultId: string, body: BreakGlassRequest): Promise<ApprovalResponse> {
  const ctx = requireInteractiveUser(anyCtx, "Breaking glass");
  if (!isOrgAdmin(ctx)) throw ApiError.forbidden("Only an org owner or admin can break glass");
  const vault = await loadVault(ctx, vaultId);
  assertSameOrg(ctx, vault);
  if (isSystemVault(vault)) throw ApiError.forbidden("Talon's system vault has no break-glass access");
  const now = new Date();
  const until = new Date(now.getTime() + body.duration_seconds * 1000);
  const id = randomUUID();
  const me = principalRef(ctx.principal);
  await ctx.rt.db.approvalRequest.create({
    data: {
      id,
      orgId: vault.orgId,
      vaultId: vault.id,
      principalType: "user",
      principalId: ctx.principal.userId,
      action: "break_glass",
      resource: "**",
      reason: body.reason,
      status: "approved",
      detail: JSON.stringify({ duration_seconds: body.duration_seconds }),
      expiresAt: until,
      decidedBy: me,
      decidedAt: now,
      grantUntil: until,
      breakGlass: true,
    },
  });
  await ctx.rt.audit.record(ctx, {
    action: "break_glass.used",
    resourceType: "approval",
    resourceId: id,
    details: { vault_id: vault.id, duration_seconds: body.duration_seconds, until: until.toISOString(), reason_length: body.reason.length },
  });
  const self = await ctx.rt.db.user.findFirst({ where: { id: ctx.principal.userId }, select: { email: true } });
  const to = await vaultOwnerEmails(ctx, vault, ctx.principal.userId);
  await mailMany(ctx, to, "Talon: break-glass access was used", [
    `${quoted(self?.email ?? ctx.principal.userId)} granted themselves break-glass access to the vault ${quoted(vault.name)} until ${until.toISOString()}.`,
    `Their reason: ${quoted(body.reason)}`,
    "",
    "Every access during the window is in the audit log (break_glass.access). Review it in the dashboard:",
    `${ctx.rt.config.publicUrl}/approvals`,
  ]);
  return getApproval(ctx, id);
}

/** When the caller's own live break-glass window on this vault ends, or null (the vault page shows it). */
export async function activeBreakGlassUntil(ctx: Ctx, vaultId: string): Promise<string | null> {
  const p = ctx.principal;
  if (p.kind !== "user") return null;
  const row = await ctx.rt.db.approvalRequest.findFirst({
    where: { orgId: p.orgId, vaultId, principalType: "user", principalId: p.userId, breakGlass: true, status: "approved", grantUntil: { gt: new Date() } },
    orderBy: { grantUntil: "desc" },
    select: { grantUntil: true },
  });
  return row?.grantUntil?.toISOString() ?? null;
}
