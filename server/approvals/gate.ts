import { randomUUID } from "node:crypto";
import { APPROVAL_PENDING_SECONDS } from "../../lib/contract/approvals";
import { ApiError } from "../http/errors";
import { type Ctx, principalId } from "../http/principal";
import { mailMany, quoted, vaultOwnerEmails } from "./notify";

/**
 * The approval gate (issue 14), called by the access decision (server/access/evaluate.ts) when the
 * only policies allowing an operation require a human's approval for it. It lets the request through
 * when the same principal holds a usable approval for the same action on the same vault and path:
 *   - a window approval (grantUntil in the future), any number of times until then;
 *   - a single-use approval, taken by one conditional UPDATE (`usesLeft > 0` → `usesLeft - 1`), so
 *     concurrent retries take it exactly once.
 * Otherwise it answers 403 `approval_required` naming a pending request — the identical pending one
 * if there is one, else a new one (audited `approval.requested`, mailed to the vault's owners).
 * Break-glass (an owner's or admin's self-granted window) lifts deny policies: `breakGlassActive`.
 */
export type GateVault = { id: string; orgId: string; name?: string; createdBy: string; createdByType: string };
export type GatedAction = "read" | "write" | "use" | "transaction";

/** Per request: an approval taken once is not taken again by a second check in the same request. */
const taken = new WeakMap<Ctx, Set<string>>();
const keyOf = (vaultId: string | null, action: string, resource: string) => `${vaultId ?? ""}\u0000${action}\u0000${resource}`;

const who = (ctx: Ctx) => ({ orgId: ctx.principal.orgId, principalType: ctx.principal.kind, principalId: principalId(ctx.principal) });

/** Takes a usable approval or throws approval_required. */
export async function passApprovalGate(
  ctx: Ctx,
  vault: GateVault | null,
  action: GatedAction,
  resource: string,
  detail: Record<string, string> = {},
): Promise<void> {
  const key = keyOf(vault?.id ?? null, action, resource);
  const memo = taken.get(ctx);
  if (memo?.has(key)) return;
  const db = ctx.rt.db;
  const now = new Date();
  const same = { ...who(ctx), vaultId: vault?.id ?? null, action, resource, breakGlass: false };

  const windowGrant = await db.approvalRequest.findFirst({ where: { ...same, status: "approved", grantUntil: { gt: now } }, select: { id: true } });
  let usedId: string | null = windowGrant?.id ?? null;
  if (!usedId) {
    const singles = await db.approvalRequest.findMany({
      where: { ...same, status: "approved", grantUntil: null, usesLeft: { gt: 0 }, expiresAt: { gt: now } },
      select: { id: true },
      orderBy: { decidedAt: "asc" },
      take: 5,
    });
    for (const s of singles) {
      // The one statement that takes a use: concurrent retries cannot both see usesLeft > 0.
      const { count } = await db.approvalRequest.updateMany({ where: { id: s.id, status: "approved", usesLeft: { gt: 0 } }, data: { usesLeft: { decrement: 1 } } });
      if (count !== 1) continue;
      await db.approvalRequest.updateMany({ where: { id: s.id, status: "approved", usesLeft: { lte: 0 } }, data: { status: "used" } });
      usedId = s.id;
      await ctx.rt.audit.record(ctx, { action: "approval.used", resourceType: "approval", resourceId: s.id, details: { vault_id: vault?.id ?? null, action, resource } });
      break;
    }
  }
  if (usedId) {
    if (memo) memo.add(key);
    else taken.set(ctx, new Set([key]));
    return;
  }

  const reason = ctx.approvalReason ?? "";
  const pending = await db.approvalRequest.findFirst({ where: { ...same, status: "pending", expiresAt: { gt: now } }, select: { id: true, expiresAt: true }, orderBy: { createdAt: "desc" } });
  if (pending) throw approvalRequired(pending.id, pending.expiresAt, action, resource, false);

  const id = randomUUID();
  const expiresAt = new Date(now.getTime() + APPROVAL_PENDING_SECONDS * 1000);
  await db.approvalRequest.create({
    data: { id, ...same, reason, detail: JSON.stringify(detail), expiresAt, status: "pending" },
  });
  await ctx.rt.audit.record(ctx, {
    action: "approval.requested",
    resourceType: "approval",
    resourceId: id,
    details: { vault_id: vault?.id ?? null, action, resource, reason_length: reason.length },
  });
  await mailRequest(ctx, vault, id, action, resource, reason);
  throw approvalRequired(id, expiresAt, action, resource, true);
}

function approvalRequired(id: string, expiresAt: Date, action: GatedAction, resource: string, created: boolean): ApiError {
  const what = action === "transaction" ? `This transaction (${resource})` : `Your ${action} of ${resource}`;
  return new ApiError(
    403,
    `${what} needs a human's approval. ${created ? "An approval request was sent" : "An approval request is already pending"} (id ${id}, pending until ${expiresAt.toISOString()}): ask your human to approve it in the Talon dashboard (Approvals) or with POST /v1/approvals/${id}/approve, then retry. GET /v1/approvals/${id} shows whether it was decided.`,
    { type: "approval_required", extensions: { approval_request_id: id, approval_status: "pending", approval_expires_at: expiresAt.toISOString() } },
  );
}

async function mailRequest(ctx: Ctx, vault: GateVault | null, id: string, action: string, resource: string, reason: string) {
  const p = ctx.principal;
  const name =
    p.kind === "agent"
      ? ((await ctx.rt.db.agent.findFirst({ where: { id: p.agentId }, select: { name: true } }))?.name ?? p.agentId)
      : ((await ctx.rt.db.user.findFirst({ where: { id: p.userId }, select: { email: true } }))?.email ?? p.userId);
  const to = await vaultOwnerEmails(ctx, vault);
  await mailMany(ctx, to, "Talon: an approval request is waiting for you", [
    `The ${p.kind} ${quoted(name)} asks to ${action} ${quoted(resource)}${vault?.name ? ` in the vault ${quoted(vault.name)}` : ""}.`,
    reason ? `Their reason: ${quoted(reason)}` : "They gave no reason.",
    "",
    "Approve it (once, or for a time window) or deny it in the Talon dashboard:",
    `${ctx.rt.config.publicUrl}/approvals?request=${id}`,
    "",
    `The request lapses in ${APPROVAL_PENDING_SECONDS / 3600} hours if nobody decides.`,
  ]);
}

/**
 * Whether the caller holds a live break-glass window on this vault (an owner's or admin's): it lifts
 * deny policies for them until it ends. Every access through it is audited `break_glass.access`.
 */
export async function breakGlassActive(ctx: Ctx, vaultId: string, path: string, op: string): Promise<boolean> {
  const p = ctx.principal;
  if (p.kind !== "user" || (p.role !== "owner" && p.role !== "admin")) return false;
  const grant = await ctx.rt.db.approvalRequest.findFirst({
    where: { ...who(ctx), vaultId, breakGlass: true, status: "approved", grantUntil: { gt: new Date() } },
    select: { id: true },
  });
  if (!grant) return false;
  await ctx.rt.audit.record(ctx, { action: "break_glass.access", resourceType: "approval", resourceId: grant.id, details: { vault_id: vaultId, path, operation: op } });
  return true;
}
