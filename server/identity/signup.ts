import { randomUUID } from "node:crypto";
import type { SignupRequest, SignupResponse, TokenResponse, VerifyEmailRequest } from "../../lib/contract/auth";
import { appendAudit } from "../audit/chain";
import { auditRow } from "../audit/writer";
import { sha256 } from "../crypto/digest";
import type { Tx } from "../db";
import { ApiError } from "../http/errors";
import type { PublicCtx } from "../http/principal";
import { log } from "../log";
import type { MailMessage } from "../mail";
import { isUniqueViolation } from "../secrets/repo";
import { newEmailToken, storeEmailToken, tokenLink, VERIFY_EMAIL_PURPOSE } from "./email-tokens";
import { replacePassword } from "./password-reset";
import { hashPassword } from "./passwords";
import { issueSession } from "./refresh";
import { userActor } from "./service";

/**
 * Sign-up and email verification, built so that signing up with someone else's address gains nothing:
 *
 * - Every sign-up answers the same 201 body, whether the address is new, already has an account, or
 *   has a sign-up waiting for verification; only the mail sent to the address differs. So sign-up
 *   tells nobody whether an address is registered.
 * - An unverified sign-up expires after `UNVERIFIED_TTL_MS`: the next sign-up (or an accepted
 *   invitation) for the address replaces it, organisation and all.
 * - A sign-up for an address whose sign-up is still waiting does not touch that account: it mails a
 *   fresh verification link to the mailbox. Once an address has been signed up for more than once,
 *   verifying needs a new password (nobody can know whose password the account holds), and the
 *   names the first sign-up chose are dropped. The dashboard's verify page always asks for one.
 * - Verifying with a password ends every earlier session and token.
 */
export const UNVERIFIED_TTL_MS = 24 * 60 * 60 * 1000;

export const SIGNUP_ANSWER = "Account created. Check your email for a verification link.";

const badVerificationToken = () =>
  ApiError.badRequest("The verification token is invalid, expired or already used", [{ field: "token", message: "invalid, expired or already used" }]);
const passwordNeeded = () =>
  ApiError.badRequest("This address was signed up for more than once: choose your password while verifying", [
    { field: "password", message: "required for this account (at least 12 characters)" },
  ]);

type ExistingUser = { id: string; orgId: string; emailVerifiedAt: Date | null; createdAt: Date };

const isStale = (u: ExistingUser, now = Date.now()) => u.emailVerifiedAt === null && u.createdAt.getTime() <= now - UNVERIFIED_TTL_MS;

export async function signup(ctx: PublicCtx, input: SignupRequest): Promise<SignupResponse> {
  const { email } = input;
  // Hashed on every path, so an existing address costs the same time as a new one.
  const passwordHash = await hashPassword(input.password);
  const existing = await ctx.rt.db.user.findUnique({ where: { email }, select: { id: true, orgId: true, emailVerifiedAt: true, createdAt: true } });
  // Not the existing account's id: a second sign-up must not learn that it matches the first.
  const answer = { message: SIGNUP_ANSWER, user_id: randomUUID(), email };

  if (existing?.emailVerifiedAt) {
    await sendMail(ctx, existingAccountMail(ctx, email));
    return answer;
  }
  if (existing && !isStale(existing)) {
    await mailFreshLink(ctx, existing.id, email);
    return answer;
  }

  const userId = answer.user_id;
  const orgId = randomUUID();
  const token = newEmailToken();
  await sendMail(ctx, verificationMail(ctx, email, token, false));
  const displayName = input.display_name ?? "";
  try {
    await ctx.rt.db.$transaction(async (tx) => {
      if (existing) await removeUnverifiedAccount(tx, email, new Date(Date.now() - UNVERIFIED_TTL_MS));
      await tx.org.create({ data: { id: orgId, name: displayName || email } });
      await tx.user.create({ data: { id: userId, orgId, email, passwordHash, displayName, role: "owner" } });
      await storeEmailToken(tx, userId, VERIFY_EMAIL_PURPOSE, token, UNVERIFIED_TTL_MS);
      await appendAudit(tx, auditRow(ctx, { action: "auth.signup", resourceType: "user", resourceId: userId }, userActor({ id: userId, orgId })));
    });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    // A concurrent sign-up for the same address won: the link just mailed verifies that account instead.
    const winner = await ctx.rt.db.user.findUnique({ where: { email }, select: { id: true, emailVerifiedAt: true } });
    if (winner && !winner.emailVerifiedAt) await storeEmailToken(ctx.rt.db, winner.id, VERIFY_EMAIL_PURPOSE, token, UNVERIFIED_TTL_MS);
  }
  return answer;
}

/** A waiting sign-up: one more live link, the account itself unchanged. */
async function mailFreshLink(ctx: PublicCtx, userId: string, email: string) {
  const token = newEmailToken();
  await sendMail(ctx, verificationMail(ctx, email, token, true));
  await storeEmailToken(ctx.rt.db, userId, VERIFY_EMAIL_PURPOSE, token, UNVERIFIED_TTL_MS);
}

/**
 * Deletes the unverified account of `email` (created before `createdBefore`, when given) and the
 * organisation its sign-up created, so a new sign-up or an accepted invitation can take the address.
 * Conditional on the address still being unverified, in the caller's transaction. An unverified
 * account cannot sign in, so its organisation holds nothing but itself; it is removed only when no
 * one else belongs to it.
 */
export async function removeUnverifiedAccount(tx: Tx, email: string, createdBefore?: Date): Promise<boolean> {
  const user = await tx.user.findFirst({
    where: { email, emailVerifiedAt: null, ...(createdBefore ? { createdAt: { lte: createdBefore } } : {}) },
    select: { id: true, orgId: true },
  });
  if (!user) return false;
  const { count } = await tx.user.deleteMany({ where: { id: user.id, emailVerifiedAt: null } });
  if (count === 0) return false;
  if ((await tx.user.count({ where: { orgId: user.orgId } })) === 0) await tx.org.deleteMany({ where: { id: user.orgId } });
  return true;
}

function verificationMail(ctx: PublicCtx, to: string, token: string, again: boolean): MailMessage {
  const text = [
    again ? "Someone (perhaps you) signed up for Talon again with this email address." : "Welcome to Talon.",
    "",
    "Confirm your email address by opening this link (valid for 24 hours):",
    tokenLink(ctx.rt.config.publicUrl, "verify-email", token),
    "",
    again
      ? "You will choose your password on that page: since this address was signed up for more than once, the account takes only the password you choose there."
      : "You can choose a new password on that page.",
    "",
    again
      ? "Or send this verification token with the password you choose to POST /v1/auth/verify-email (fields token, password):"
      : "Or send this verification token to POST /v1/auth/verify-email:",
    token,
    "",
    "If you did not sign up, ignore this message: an unverified sign-up is deleted after 24 hours.",
  ].join("\n");
  return { to, subject: "Verify your email address for Talon", text };
}

function existingAccountMail(ctx: PublicCtx, to: string): MailMessage {
  const { publicUrl } = ctx.rt.config;
  const text = [
    "Someone tried to create a new Talon account with this email address, which already has one.",
    "Nothing was changed: no new account was created.",
    "",
    `If it was you, sign in instead: ${publicUrl}/login`,
    `Forgot your password? Choose a new one here: ${publicUrl}/forgot-password`,
    "",
    "If it was not you, you need do nothing.",
  ].join("\n");
  return { to, subject: "Sign-up attempt with your Talon address", text };
}

/**
 * Mails go out before anything is committed: if one cannot be sent nothing changes and the person
 * can simply retry. The answer is the same 503 whichever mail it was, so it says nothing about the address.
 */
async function sendMail(ctx: PublicCtx, msg: MailMessage) {
  try {
    await ctx.rt.mailer.send(msg);
  } catch (e) {
    // The error's code (e.g. ECONNECTION) says what failed; its message may quote the SMTP dialogue.
    log.error("sign-up email could not be sent", { requestId: ctx.requestId, code: (e as { code?: unknown })?.code ?? "unknown" });
    throw ApiError.unavailable("The verification email could not be sent; nothing was created. Try again later.");
  }
}

/** Confirms the address and signs the user in (the API's verify-email). */
export async function verifyEmail(ctx: PublicCtx, input: VerifyEmailRequest): Promise<TokenResponse> {
  return issueSession(ctx.rt, await confirmEmail(ctx, input));
}

/**
 * Marks the address verified (setting the password when one is given) and returns the user. Single
 * use: the token is consumed by one conditional update, so two concurrent uses cannot both win;
 * every other pending link for the account dies with it.
 */
export async function confirmEmail(ctx: PublicCtx, input: VerifyEmailRequest) {
  const row = await ctx.rt.db.emailToken.findUnique({
    where: { tokenHash: sha256(input.token, "hex") },
    select: { id: true, purpose: true, usedAt: true, expiresAt: true, user: { select: { id: true, orgId: true, email: true, tokenVersion: true, emailVerifiedAt: true } } },
  });
  if (!row || row.purpose !== VERIFY_EMAIL_PURPOSE || row.usedAt || row.expiresAt.getTime() <= Date.now()) throw badVerificationToken();
  const { user } = row;
  const contested = (await ctx.rt.db.emailToken.count({ where: { userId: user.id, purpose: VERIFY_EMAIL_PURPOSE } })) > 1;
  if (contested && !input.password && !user.emailVerifiedAt) throw passwordNeeded();
  const passwordHash = input.password ? await hashPassword(input.password) : null;

  return ctx.rt.db.$transaction(async (tx) => {
    const now = new Date();
    const { count } = await tx.emailToken.updateMany({ where: { id: row.id, usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } });
    if (count === 0) throw badVerificationToken();
    let { tokenVersion } = user;
    if (passwordHash) {
      ({ tokenVersion } = await replacePassword(tx, user.id, passwordHash));
      if (contested) {
        await tx.user.update({ where: { id: user.id }, data: { displayName: "" } });
        await tx.org.updateMany({ where: { id: user.orgId }, data: { name: user.email } });
      }
    } else {
      await tx.user.updateMany({ where: { id: user.id, emailVerifiedAt: null }, data: { emailVerifiedAt: now } });
      await tx.emailToken.deleteMany({ where: { userId: user.id, purpose: VERIFY_EMAIL_PURPOSE, usedAt: null } });
    }
    const details = { password_set: passwordHash !== null };
    await appendAudit(tx, auditRow(ctx, { action: "auth.verify_email", resourceType: "user", resourceId: user.id, details }, userActor(user)));
    return { id: user.id, orgId: user.orgId, tokenVersion };
  });
}
