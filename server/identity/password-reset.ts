import type { ResetPasswordRequest } from "../../lib/contract/auth";
import { hit } from "../abuse/counters";
import { appendAudit } from "../audit/chain";
import { auditRow } from "../audit/writer";
import { sha256 } from "../crypto/digest";
import type { Tx } from "../db";
import { ApiError } from "../http/errors";
import type { PublicCtx } from "../http/principal";
import { log } from "../log";
import { newEmailToken, RESET_PASSWORD_PURPOSE, storeEmailToken, tokenLink, VERIFY_EMAIL_PURPOSE } from "./email-tokens";
import { emailDigest, hashPassword } from "./passwords";
import { revokeUserRefreshTokens } from "./refresh";

export const RESET_TOKEN_TTL_MS = 30 * 60 * 1000;
/** Reset mails per address per hour: enough for a person, too few to bomb a mailbox with. */
export const RESET_MAILS_PER_HOUR = 3;
const HOUR_MS = 60 * 60 * 1000;

export const FORGOT_PASSWORD_ANSWER = "If an account exists for this address, we have sent it a link to choose a new password. The link is valid for 30 minutes.";

const badResetToken = () => ApiError.badRequest("The reset token is invalid, expired or already used", [{ field: "token", message: "invalid, expired or already used" }]);

/**
 * Gives the account a password only the caller knows and ends everything opened before: the token
 * version bump kills every access token and dashboard session, refresh tokens and dashboard session
 * rows are revoked, and every mailed token still pending is deleted (a stale verification or reset
 * link must not set the password again). The caller has just proved control of the mailbox, so the
 * address counts as verified.
 */
export async function replacePassword(tx: Tx, userId: string, passwordHash: string): Promise<{ tokenVersion: number; wasVerified: boolean }> {
  const now = new Date();
  const before = await tx.user.findUniqueOrThrow({ where: { id: userId }, select: { emailVerifiedAt: true } });
  const user = await tx.user.update({
    where: { id: userId },
    data: { passwordHash, tokenVersion: { increment: 1 }, emailVerifiedAt: before.emailVerifiedAt ?? now },
    select: { tokenVersion: true },
  });
  await revokeUserRefreshTokens(tx, userId);
  await tx.userSession.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: now } });
  await tx.emailToken.deleteMany({ where: { userId, usedAt: null, purpose: { in: [VERIFY_EMAIL_PURPOSE, RESET_PASSWORD_PURPOSE] } } });
  return { tokenVersion: user.tokenVersion, wasVerified: before.emailVerifiedAt !== null };
}

/**
 * Mails a reset link when the address has an account; answers the same either way. The lookup, the
 * token and the mail run after the answer is decided and off the request's path, so neither the body
 * nor the time taken says whether the address exists; a mail that cannot be sent is logged, not
 * reported (reporting it would say the account exists).
 */
export async function forgotPassword(ctx: PublicCtx, email: string): Promise<{ message: string }> {
  void sendResetLink(ctx, email).catch((e: unknown) => {
    log.error("password reset email could not be sent", { requestId: ctx.requestId, code: (e as { code?: unknown })?.code ?? "unknown" });
  });
  return { message: FORGOT_PASSWORD_ANSWER };
}

async function sendResetLink(ctx: PublicCtx, email: string): Promise<void> {
  const { count } = await hit(ctx.rt.db, `reset:mail:${emailDigest(email)}`, HOUR_MS);
  if (count > RESET_MAILS_PER_HOUR) return;
  const user = await ctx.rt.db.user.findUnique({ where: { email }, select: { id: true } });
  if (!user) return;
  const token = newEmailToken();
  await ctx.rt.db.$transaction(async (tx) => {
    // One live reset link per account: a new request replaces the earlier one.
    await tx.emailToken.deleteMany({ where: { userId: user.id, purpose: RESET_PASSWORD_PURPOSE, usedAt: null } });
    await storeEmailToken(tx, user.id, RESET_PASSWORD_PURPOSE, token, RESET_TOKEN_TTL_MS);
  });
  const text = [
    "Someone asked to reset the password of your Talon account.",
    "",
    "Choose a new password by opening this link (valid for 30 minutes, usable once):",
    tokenLink(ctx.rt.config.publicUrl, "reset-password", token),
    "",
    "Or send this reset token with your new password to POST /v1/auth/reset-password:",
    token,
    "",
    "Resetting signs you out everywhere. If you did not ask for this, ignore this message: your password stays as it is.",
  ].join("\n");
  await ctx.rt.mailer.send({ to: email, subject: "Reset your Talon password", text });
}

/**
 * Sets the new password with a mailed reset token. Single use: the token is consumed by one
 * conditional update inside the transaction that changes the password, so two concurrent uses cannot
 * both win.
 */
export async function resetPassword(ctx: PublicCtx, input: ResetPasswordRequest): Promise<void> {
  const row = await ctx.rt.db.emailToken.findUnique({
    where: { tokenHash: sha256(input.token, "hex") },
    select: { id: true, purpose: true, usedAt: true, expiresAt: true, user: { select: { id: true, orgId: true } } },
  });
  if (!row || row.purpose !== RESET_PASSWORD_PURPOSE || row.usedAt || row.expiresAt.getTime() <= Date.now()) throw badResetToken();
  const passwordHash = await hashPassword(input.new_password);
  const { user } = row;
  await ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.emailToken.updateMany({ where: { id: row.id, usedAt: null, expiresAt: { gt: new Date() } }, data: { usedAt: new Date() } });
    if (count === 0) throw badResetToken();
    const { wasVerified } = await replacePassword(tx, user.id, passwordHash);
    const actor = { orgId: user.orgId, actorId: `user:${user.id}`, actorType: "user" as const };
    await appendAudit(tx, auditRow(ctx, { action: "auth.password_reset", resourceType: "user", resourceId: user.id, details: { email_verified_by_reset: !wasVerified } }, actor));
  });
}
