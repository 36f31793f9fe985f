import type { ChangePasswordRequest, LoginRequest, LoginResponse, MeResponse, UpdateMeRequest } from "../../lib/contract/auth";
import { deactivateAgentsRegisteredBy } from "../agents/service";
import { auditRow } from "../audit/writer";
import { appendAudit } from "../audit/chain";
import { ApiError } from "../http/errors";
import { destroySigningKeyObjects, signingKeysToDestroy } from "../intents/key-objects";
import { type Ctx, type OrgRole, type PublicCtx, requireUser } from "../http/principal";
import { recordAnonymousFailure } from "./failures";
import { completeSignIn, requireSession } from "./mfa";
import { hashPassword, verifyPasswordLimited } from "./passwords";
import { revokeUserRefreshTokens } from "./refresh";

/** How the account signs in, as the card's clients read it: linked to Google, or by password. */
export const userAuthMethod = (u: { googleSub: string | null }): MeResponse["auth_method"] => (u.googleSub ? "google" : "password");

export const userActor = (u: { id: string; orgId: string }) => ({ orgId: u.orgId, actorId: `user:${u.id}`, actorType: "user" as const });

/**
 * Email + password → a session, or an MFA challenge when MFA is on. Brute-force limits apply before
 * any hashing (see `verifyPasswordLimited`). An unknown email verifies against a dummy hash so it
 * costs the same as a wrong password, and both answer the same 401 body. Only a correct password
 * learns that the address is unverified.
 */
export async function login(ctx: PublicCtx, input: LoginRequest): Promise<LoginResponse> {
  return completeSignIn(ctx, await authenticatePassword(ctx, input), "password");
}

/**
 * The first factor alone, shared by the API's `login` and the dashboard's sign-in: the user when the
 * password is right and the address verified, otherwise the error (failures audited).
 */
export async function authenticatePassword(ctx: PublicCtx, input: LoginRequest) {
  const user = await ctx.rt.db.user.findUnique({
    where: { email: input.email },
    select: { id: true, orgId: true, passwordHash: true, emailVerifiedAt: true, tokenVersion: true, mfaEnabled: true },
  });
  let ok: boolean;
  try {
    ok = await verifyPasswordLimited(ctx.rt, { email: input.email, ip: ctx.ip }, user?.passwordHash ?? null, input.password);
  } catch (e) {
    if (e instanceof ApiError && e.status === 429) await recordLoginFailure(ctx, user, "rate_limited");
    throw e;
  }
  if (!user || !ok) {
    await recordLoginFailure(ctx, user, null);
    throw ApiError.unauthorized("Invalid credentials");
  }
  if (!user.emailVerifiedAt) {
    await recordLoginFailure(ctx, user, "email_unverified");
    throw ApiError.forbidden("Email address not verified. Open the link in the verification email we sent you, then sign in again.");
  }
  return { id: user.id, orgId: user.orgId, tokenVersion: user.tokenVersion, mfaEnabled: user.mfaEnabled };
}

/**
 * Whoever failed has proved nothing: the event goes to the targeted account's organisation (unknown
 * addresses belong to none, "") as an anonymous actor's, bounded per target (see ./failures).
 */
function recordLoginFailure(ctx: PublicCtx, user: { id: string; orgId: string } | null, reason: string | null) {
  return recordAnonymousFailure(ctx, user, { method: "password", ...(reason ? { reason } : {}) });
}

export async function getMe(anyCtx: Ctx): Promise<MeResponse> {
  const ctx = requireUser(anyCtx);
  const u = await ctx.rt.db.user.findFirst({ where: { id: ctx.principal.userId, orgId: ctx.principal.orgId } });
  if (!u) throw ApiError.unauthorized();
  return {
    id: u.id,
    email: u.email,
    display_name: u.displayName,
    org_id: u.orgId,
    role: u.role as OrgRole,
    email_verified: u.emailVerifiedAt !== null,
    marketing_emails: u.marketingEmails,
    auth_method: userAuthMethod(u),
    totp_enabled: u.mfaEnabled,
    created_at: u.createdAt.toISOString(),
  };
}

/** Profile fields only; the email address and role change elsewhere. Works with a personal API key too. */
export async function updateMe(anyCtx: Ctx, input: UpdateMeRequest): Promise<MeResponse> {
  const ctx = requireUser(anyCtx);
  const data = {
    ...(input.display_name !== undefined ? { displayName: input.display_name } : {}),
    ...(input.marketing_emails !== undefined ? { marketingEmails: input.marketing_emails } : {}),
  };
  const fields = [input.display_name !== undefined && "display_name", input.marketing_emails !== undefined && "marketing_emails"].filter(Boolean).join(",");
  if (fields) {
    await ctx.rt.db.$transaction(async (tx) => {
      const { count } = await tx.user.updateMany({ where: { id: ctx.principal.userId, orgId: ctx.principal.orgId }, data });
      if (count === 0) throw ApiError.unauthorized();
      await appendAudit(tx, auditRow(ctx, { action: "user.update", resourceType: "user", resourceId: ctx.principal.userId, details: { fields } }));
    });
  }
  return getMe(ctx);
}

/**
 * New password: every access token dies (token version bump) and every refresh token is revoked.
 * The current password is checked under the same brute-force limits as sign-in, so a stolen session
 * cannot be used to guess it.
 */
export async function changePassword(anyCtx: Ctx, input: ChangePasswordRequest): Promise<void> {
  const ctx = requireSession(anyCtx);
  const { userId } = ctx.principal;
  const user = await ctx.rt.db.user.findUnique({ where: { id: userId }, select: { id: true, orgId: true, email: true, passwordHash: true } });
  if (!user) throw ApiError.unauthorized();
  if (!(await verifyPasswordLimited(ctx.rt, { email: user.email, ip: ctx.ip }, user.passwordHash, input.current_password))) {
    await ctx.rt.audit.record(ctx, { action: "auth.failure", resourceType: "user", resourceId: userId, details: { method: "password", reason: "change_password" } });
    throw ApiError.badRequest("The current password is not correct", [{ field: "current_password", message: "not correct" }]);
  }
  const passwordHash = await hashPassword(input.new_password);
  await ctx.rt.db.$transaction(async (tx) => {
    // Conditional on the hash just verified: of two concurrent changes, the second fails cleanly.
    const { count } = await tx.user.updateMany({ where: { id: userId, passwordHash: user.passwordHash }, data: { passwordHash, tokenVersion: { increment: 1 } } });
    if (count === 0) throw ApiError.conflict("The password was changed by another request; sign in again");
    await revokeUserRefreshTokens(tx, userId);
    await appendAudit(tx, auditRow(ctx, { action: "auth.password_change", resourceType: "user", resourceId: userId }));
  });
}

/**
 * Deletes the caller's account. The last owner of an organisation that has other members must hand
 * ownership over first (409); a sole member takes the organisation, its vaults, agents and secrets
 * with them (database cascade; the agents' HSM signing keys destroyed in the token after commit); otherwise the agents they registered are deactivated. On PostgreSQL the org row is locked so two owners deleting themselves
 * at once cannot leave it ownerless; SQLite runs write transactions one at a time anyway.
 */
export async function deleteMe(anyCtx: Ctx): Promise<void> {
  const ctx = requireSession(anyCtx);
  const { userId, orgId } = ctx.principal;
  const removed = await ctx.rt.db.$transaction(async (tx) => {
    if (ctx.rt.dialect === "postgres") await tx.$queryRaw`SELECT "id" FROM "Org" WHERE "id" = ${orgId} FOR UPDATE`;
    const members = await tx.user.findMany({ where: { orgId }, select: { id: true, role: true } });
    const me = members.find((m) => m.id === userId);
    if (!me) throw ApiError.unauthorized();
    const others = members.filter((m) => m.id !== userId);
    const soleMember = others.length === 0;
    if (!soleMember && me.role === "owner" && !others.some((m) => m.role === "owner")) {
      throw ApiError.conflict("You are the last owner of an organisation with other members: make another member an owner, or remove them, before deleting your account");
    }
    await appendAudit(tx, auditRow(ctx, { action: "user.delete", resourceType: "user", resourceId: userId, details: { org_deleted: soleMember } }));
    if (!soleMember) {
      // Leaving by deleting the account stops the agents one registered, as being removed does.
      await deactivateAgentsRegisteredBy(tx, ctx, userId);
      await tx.user.delete({ where: { id: userId } });
      return { vaults: [], signingKeys: [] };
    }
    const vaults = await tx.vault.findMany({ where: { orgId }, select: { id: true } });
    const signingKeys = await signingKeysToDestroy(tx, { orgId });
    await tx.org.delete({ where: { id: orgId } });
    return { vaults: vaults.map((v) => v.id), signingKeys };
  });
  for (const id of removed.vaults) ctx.rt.vaultKeys.forget(id);
  await destroySigningKeyObjects(ctx.rt, removed.signingKeys, { org_id: orgId });
}
