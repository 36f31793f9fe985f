import { createHash, randomUUID } from "node:crypto";
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
 * if there is one, else a new one (audited `approval.requested`, mailed to the vault's owners). One
 * ask has one pending request however many callers ask at once: the row carries `pendingKey` (a hash
 * of who, action, vault and resource, unique) while pending; of concurrent creators one inserts and
 * the others hit the unique key and are told that request's id. Every statement that takes a request
 * out of pending (approve, deny, expire) clears the key in the same UPDATE.
 * A single-use approval taken for a request that then fails before producing its effect (the secret
 * is missing, the transaction is over its daily limit, the destination refused the connection ...)
 * is given back by one conditional UPDATE: the API's error handler (server/http/pipeline.ts) calls
 * `giveBackApprovals` for a failed request; code whose effect comes before the request ends (a
 * transaction signed, then broadcast; an execute request sent) calls `spendApprovals` at the effect.
 * Break-glass (an owner's or admin's self-granted window) lifts deny policies: `breakGlassActive`.
 */
export type GateVault = { id: string; orgId: string; name?: string; createdBy: string; createdByType: string };
export type GatedAction = "read" | "write" | "use" | "transaction";

/**
 * Per request: what this request took, by ask. An approval taken once is not taken again by a second
 * check in the same request. `approvalId` is set for a single-use approval this request took and may
 * still give back; `spent` once the request produced its effect (then it is never given back).
 */
type Taken = { approvalId: string | null; spent: boolean };
const taken = new WeakMap<Ctx, Map<string, Taken>>();
const keyOf = (vaultId: string | null, action: string, resource: string) => `${vaultId ?? ""}\u0000${action}\u0000${resource}`;

const who = (ctx: Ctx) => ({ orgId: ctx.principal.orgId, principalType: ctx.principal.kind, principalId: principalId(ctx.principal) });

/** The unique key of the one pending request for an ask: who, action, vault, resource. Never a value. */
export function pendingKeyOf(orgId: string, principalType: string, principalId: string, action: string, vaultId: string | null, resource: string): string {
  const h = createHash("sha256");
  for (const part of [orgId, principalType, principalId, action, vaultId ?? "", resource]) h.update(part).update("\u0000");
  return h.digest("hex");
}

/** A unique-constraint violation (Prisma P2002), whichever database raised it. */
const isUniqueViolation = (e: unknown) => typeof e === "object" && e !== null && (e as { code?: unknown }).code === "P2002";

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
  let single: string | null = null;
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
      usedId = single = s.id;
      await ctx.rt.audit.record(ctx, { action: "approval.used", resourceType: "approval", resourceId: s.id, details: { vault_id: vault?.id ?? null, action, resource } });
      break;
    }
  }
  if (usedId) {
    (memo ?? taken.set(ctx, new Map()).get(ctx)!).set(key, { approvalId: single, spent: false });
    return;
  }

  const reason = ctx.approvalReason ?? "";
  const pendingKey = pendingKeyOf(same.orgId, same.principalType, same.principalId, action, same.vaultId, resource);
  const pending = await db.approvalRequest.findFirst({ where: { ...same, status: "pending", expiresAt: { gt: now } }, select: { id: true, expiresAt: true }, orderBy: { createdAt: "desc" } });
  if (pending) throw approvalRequired(pending.id, pending.expiresAt, action, resource, false);
  // A pending request past its expiry still holds the key until something writes it expired: free it.
  await db.approvalRequest.updateMany({ where: { pendingKey, expiresAt: { lte: now } }, data: { pendingKey: null, status: "expired" } });

  const id = randomUUID();
  const expiresAt = new Date(now.getTime() + APPROVAL_PENDING_SECONDS * 1000);
  try {
    await db.approvalRequest.create({
      data: { id, ...same, reason, detail: JSON.stringify(detail), expiresAt, status: "pending", pendingKey },
    });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    // A concurrent first ask (on this instance or another) inserted it: the same request for everyone.
    const winner = await db.approvalRequest.findFirst({ where: { pendingKey }, select: { id: true, expiresAt: true } });
    if (!winner) throw e;
    throw approvalRequired(winner.id, winner.expiresAt, action, resource, false);
  }
  await ctx.rt.audit.record(ctx, {
    action: "approval.requested",
    resourceType: "approval",
    resourceId: id,
    details: { vault_id: vault?.id ?? null, action, resource, reason_length: reason.length },
  });
  await mailRequest(ctx, vault, id, action, resource, reason);
  throw approvalRequired(id, expiresAt, action, resource, true);
}

/**
 * The request's effect was produced (the value returned, the transaction signed, the credential
 * sent): the approvals it took stay taken, whatever happens after.
 */
export function spendApprovals(ctx: Ctx): void {
  for (const t of taken.get(ctx)?.values() ?? []) t.spent = true;
}

/**
 * The request failed before producing its effect: each single-use approval it took and has not spent
 * is given back by one conditional UPDATE (only while the approval is still live: an approval that
 * expired meanwhile is not revived). Window approvals were never consumed. Audited `approval.returned`.
 */
export async function giveBackApprovals(ctx: Ctx): Promise<void> {
  const memo = taken.get(ctx);
  if (!memo) return;
  for (const [key, t] of [...memo]) {
    if (t.spent) continue;
    memo.delete(key);
    if (!t.approvalId) continue;
    const { count } = await ctx.rt.db.approvalRequest.updateMany({
      where: { id: t.approvalId, status: { in: ["approved", "used"] }, breakGlass: false, grantUntil: null, usesLeft: { lte: 0 }, expiresAt: { gt: new Date() } },
      data: { usesLeft: { increment: 1 }, status: "approved" },
    });
    if (count === 1) {
      await ctx.rt.audit.record(ctx, { action: "approval.returned", resourceType: "approval", resourceId: t.approvalId, details: { reason: "the request failed before its effect" } });
    }
  }
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
