import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { ChangePasswordRequest, LoginRequest, LoginResponse, MeResponse, SignupRequest, SignupResponse, TokenResponse, UpdateMeRequest } from "../../lib/contract/auth";
import { auditRow } from "../audit/writer";
import { appendAudit } from "../audit/chain";
import { ApiError } from "../http/errors";
import { type Ctx, type OrgRole, type PublicCtx, requireUser } from "../http/principal";
import { log } from "../log";
import { isUniqueViolation } from "../secrets/repo";
import { completeSignIn, requireSession } from "./mfa";
import { hashPassword, verifyPasswordLimited } from "./passwords";
import { issueSession, revokeUserRefreshTokens } from "./refresh";

export const VERIFY_EMAIL_PURPOSE = "verify_email";
const VERIFY_EMAIL_TTL_MS = 24 * 60 * 60 * 1000;

const emailTaken = () => ApiError.conflict("An account with this email address already exists");
const badVerificationToken = () => ApiError.badRequest("The verification token is invalid, expired or already used", [{ field: "token", message: "invalid, expired or already used" }]);

/** Email tokens are 32 random bytes: a fast hash is enough, and only the hash is stored. */
export const sha256Hex = (s: string) => createHash("sha256").update(s).digest("hex");

export const userActor = (u: { id: string; orgId: string }) => ({ orgId: u.orgId, actorId: `user:${u.id}`, actorType: "user" as const });

/**
 * Creates an organisation and its owner (unverified) and mails the verification link. The mail goes
 * out before the commit: if it cannot be sent nothing is created and the person can simply retry,
 * instead of finding their address taken by an account they cannot verify.
 */
export async function signup(ctx: PublicCtx, input: SignupRequest): Promise<SignupResponse> {
  const { email } = input;
  if (await ctx.rt.db.user.findUnique({ where: { email }, select: { id: true } })) throw emailTaken();

  const passwordHash = await hashPassword(input.password);
  const userId = randomUUID();
  const orgId = randomUUID();
  const token = randomBytes(32).toString("base64url");
  await sendVerificationEmail(ctx, email, token);

  const displayName = input.display_name ?? "";
  try {
    await ctx.rt.db.$transaction(async (tx) => {
      await tx.org.create({ data: { id: orgId, name: displayName || email } });
      await tx.user.create({ data: { id: userId, orgId, email, passwordHash, displayName, role: "owner" } });
      await tx.emailToken.create({
        data: { id: randomUUID(), userId, purpose: VERIFY_EMAIL_PURPOSE, tokenHash: sha256Hex(token), expiresAt: new Date(Date.now() + VERIFY_EMAIL_TTL_MS) },
      });
      await appendAudit(tx, auditRow(ctx, { action: "auth.signup", resourceType: "user", resourceId: userId }, userActor({ id: userId, orgId })));
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw emailTaken();
    throw e;
  }
  return { message: "Account created. Check your email for a verification link.", user_id: userId, email };
}

async function sendVerificationEmail(ctx: PublicCtx, to: string, token: string) {
  const link = `${ctx.rt.config.publicUrl}/verify-email#token=${encodeURIComponent(token)}`;
  const text = [
    "Welcome to Talon.",
    "",
    "Confirm your email address by opening this link (valid for 24 hours):",
    link,
    "",
    "Or send this verification token to POST /v1/auth/verify-email:",
    token,
    "",
    "If you did not sign up, ignore this message.",
  ].join("\n");
  try {
    await ctx.rt.mailer.send({ to, subject: "Verify your email address for Talon", text });
  } catch (e) {
    // The error's code (e.g. ECONNECTION) says what failed; its message may quote the SMTP dialogue.
    log.error("verification email could not be sent", { requestId: ctx.requestId, code: (e as { code?: unknown })?.code ?? "unknown" });
    throw ApiError.unavailable("The verification email could not be sent; nothing was created. Try again later.");
  }
}

/** Confirms the address and signs the user in (the API's verify-email). */
export async function verifyEmail(ctx: PublicCtx, token: string): Promise<TokenResponse> {
  return issueSession(ctx.rt, await confirmEmail(ctx, token));
}

/**
 * Marks the address verified and returns its user. Single use: the token is consumed by one
 * conditional update, so two concurrent uses cannot both win.
 */
export async function confirmEmail(ctx: PublicCtx, token: string) {
  const row = await ctx.rt.db.emailToken.findUnique({
    where: { tokenHash: sha256Hex(token) },
    select: { id: true, purpose: true, usedAt: true, expiresAt: true, user: { select: { id: true, orgId: true, tokenVersion: true } } },
  });
  if (!row || row.purpose !== VERIFY_EMAIL_PURPOSE || row.usedAt || row.expiresAt.getTime() <= Date.now()) throw badVerificationToken();
  const { user } = row;
  const now = new Date();
  await ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.emailToken.updateMany({ where: { id: row.id, usedAt: null }, data: { usedAt: now } });
    if (count === 0) throw badVerificationToken();
    await tx.user.updateMany({ where: { id: user.id, emailVerifiedAt: null }, data: { emailVerifiedAt: now } });
    await appendAudit(tx, auditRow(ctx, { action: "auth.verify_email", resourceType: "user", resourceId: user.id }, userActor(user)));
  });
  return user;
}

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

/** Unknown addresses belong to no organisation: their failures are recorded under none (""). */
function recordLoginFailure(ctx: PublicCtx, user: { id: string; orgId: string } | null, reason: string | null) {
  const actor = user ? userActor(user) : { orgId: "", actorId: "anonymous", actorType: "anonymous" as const };
  const details = { method: "password", ...(reason ? { reason } : {}) };
  return ctx.rt.audit.record(ctx, { action: "auth.failure", resourceType: "user", resourceId: user?.id ?? "", details }, actor);
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
 * with them (database cascade). On PostgreSQL the org row is locked so two owners deleting themselves
 * at once cannot leave it ownerless; SQLite runs write transactions one at a time anyway.
 */
export async function deleteMe(anyCtx: Ctx): Promise<void> {
  const ctx = requireSession(anyCtx);
  const { userId, orgId } = ctx.principal;
  const removedVaults = await ctx.rt.db.$transaction(async (tx) => {
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
      await tx.user.delete({ where: { id: userId } });
      return [];
    }
    const vaults = await tx.vault.findMany({ where: { orgId }, select: { id: true } });
    await tx.org.delete({ where: { id: orgId } });
    return vaults.map((v) => v.id);
  });
  for (const id of removedVaults) ctx.rt.vaultKeys.forget(id);
}
