import type { MemberResponse, UpdateMemberRequest } from "../../lib/contract/org";
import { auditRow } from "../audit/writer";
import { appendAudit } from "../audit/chain";
import { deactivateAgentsRegisteredBy } from "../agents/service";
import type { Tx } from "../db";
import { ApiError } from "../http/errors";
import { type Ctx, type OrgRole, requireUser, type UserCtx } from "../http/principal";
import { userAuthMethod } from "../identity/service";

type MemberRow = { id: string; email: string; displayName: string; role: string; googleSub: string | null; mfaEnabled: boolean; createdAt: Date };
const MEMBER_FIELDS = { id: true, email: true, displayName: true, role: true, googleSub: true, mfaEnabled: true, createdAt: true } as const;

export function toMemberResponse(u: MemberRow): MemberResponse {
  return {
    id: u.id,
    email: u.email,
    display_name: u.displayName,
    role: u.role as OrgRole,
    auth_method: userAuthMethod(u),
    totp_enabled: u.mfaEnabled,
    created_at: u.createdAt.toISOString(),
  };
}

const memberNotFound = () => ApiError.notFound("Member not found");
const lastOwner = () => ApiError.conflict("An organisation must keep at least one owner: make another member an owner first");

/** Every human of the caller's org may see who else is in it; agents may not. */
export async function listMembers(anyCtx: Ctx): Promise<{ members: MemberResponse[] }> {
  const ctx = requireUser(anyCtx);
  const users = await ctx.rt.db.user.findMany({
    where: { orgId: ctx.principal.orgId },
    select: MEMBER_FIELDS,
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  return { members: users.map(toMemberResponse) };
}

/**
 * Reads the org's members under a lock, so checks like "is this the last owner" hold until commit:
 * on PostgreSQL the org row is locked (FOR UPDATE), so two owners demoting each other at once run one
 * after the other and the second sees the first's change; SQLite runs write transactions one at a time.
 */
async function lockedMembers(ctx: UserCtx, tx: Tx) {
  const { orgId } = ctx.principal;
  if (ctx.rt.dialect === "postgres") await tx.$queryRaw`SELECT "id" FROM "Org" WHERE "id" = ${orgId} FOR UPDATE`;
  const members = await tx.user.findMany({ where: { orgId }, select: MEMBER_FIELDS });
  const me = members.find((m) => m.id === ctx.principal.userId);
  // The caller's own role as of now, not as of their token: a demoted owner cannot act on a stale one.
  if (!me) throw ApiError.unauthorized();
  return { members, me, ownerCount: members.filter((m) => m.role === "owner").length };
}

/**
 * Owners only. The last owner cannot be demoted (409). A change of role bumps the member's token
 * version, so every access token they hold dies on its next use (refreshing yields one for the new role).
 */
export async function updateMemberRole(anyCtx: Ctx, userId: string, input: UpdateMemberRequest): Promise<MemberResponse> {
  const ctx = requireUser(anyCtx);
  return ctx.rt.db.$transaction(async (tx) => {
    const { members, me, ownerCount } = await lockedMembers(ctx, tx);
    if (me.role !== "owner") throw ApiError.forbidden("Only organisation owners can change roles");
    const target = members.find((m) => m.id === userId);
    if (!target) throw memberNotFound();
    if (target.role === input.role) return toMemberResponse(target);
    if (target.role === "owner" && ownerCount <= 1) throw lastOwner();
    const updated = await tx.user.update({
      where: { id: target.id },
      data: { role: input.role, tokenVersion: { increment: 1 } },
      select: MEMBER_FIELDS,
    });
    await appendAudit(tx, auditRow(ctx, { action: "member.update", resourceType: "user", resourceId: target.id, details: { from_role: target.role, to_role: input.role } }));
    return toMemberResponse(updated);
  });
}

/**
 * Removes a person from the org. Owners may remove anyone but the last owner (409); admins may remove
 * members. Users belong to exactly one org and invited accounts exist for it, so removal deletes the
 * account: their tokens, personal API keys, refresh tokens and MFA data go with it (database
 * cascade). What they created in the org (vaults, secrets, agents) stays with the org, but the agents
 * they registered are deactivated in the same transaction (an owner or admin may reassign or
 * reactivate them).
 */
export async function removeMember(anyCtx: Ctx, userId: string): Promise<void> {
  const ctx = requireUser(anyCtx);
  await ctx.rt.db.$transaction(async (tx) => {
    const { members, me, ownerCount } = await lockedMembers(ctx, tx);
    if (me.role !== "owner" && me.role !== "admin") throw ApiError.forbidden("Only organisation owners and admins can remove members");
    const target = members.find((m) => m.id === userId);
    if (!target) throw memberNotFound();
    if (me.role === "admin" && target.role !== "member") throw ApiError.forbidden("Admins can remove members only; ask an owner to remove an admin or owner");
    if (target.role === "owner" && ownerCount <= 1) throw lastOwner();
    const agentsDeactivated = await deactivateAgentsRegisteredBy(tx, ctx, target.id);
    await appendAudit(tx, auditRow(ctx, { action: "member.remove", resourceType: "user", resourceId: target.id, details: { email: target.email, role: target.role, agents_deactivated: agentsDeactivated } }));
    await tx.user.delete({ where: { id: target.id } });
  });
}
