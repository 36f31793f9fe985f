"use server";
import { z } from "zod";
import { ZForgotPasswordRequest, ZLoginRequest, ZMfaVerifyRequest, ZResetPasswordRequest, ZSignupRequest, ZVerifyEmailRequest } from "@/lib/contract/auth";
import { ZAcceptInvitationRequest } from "@/lib/contract/org";
import { ZPasskeySignInInput } from "@/lib/contract/passkeys";
import type { ActionResult } from "@/lib/dashboard/action-result";
import type { PasswordStep, SignedIn } from "@/lib/dashboard/auth-steps";
import { auth, signIn, signOut } from "@/server/dashboard/auth";
import { actionFailure, invalidInput, publicCtx } from "@/server/dashboard/context";
import { mintTicket, revokeSession, type SignInMethod } from "@/server/dashboard/sessions";
import type { PublicCtx } from "@/server/http/principal";
import { checkAuthStepRate } from "@/server/http/rate-limit";
import { verifyMfaChallenge } from "@/server/identity/mfa";
import { passkeySignInOptions, verifyPasskeySignIn } from "@/server/identity/passkeys";
import { forgotPassword, resetPassword } from "@/server/identity/password-reset";
import { authenticatePassword } from "@/server/identity/service";
import { confirmEmail, signup } from "@/server/identity/signup";
import { joinByInvitation } from "@/server/org/invitations";
import { getRuntime } from "@/server/runtime";

/**
 * The signed-out side of the dashboard. Each action runs the same checks as the API's auth routes
 * (limits, audit, verified address, MFA); a completed sign-in mints a one-minute ticket and hands it
 * to next-auth on the server, so the browser only ever receives the session cookie.
 */

/** Runs a public step: validation, then `run`, every failure as a problem. */
async function publicStep<S extends z.ZodType, T>(schema: S, input: unknown, run: (ctx: PublicCtx, data: z.output<S>) => Promise<T>): Promise<ActionResult<T>> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) return invalidInput(parsed.error.issues);
  const ctx = await publicCtx();
  try {
    await checkAuthStepRate(ctx.rt, ctx.ip);
    return { ok: true, data: await run(ctx, parsed.data) };
  } catch (e) {
    return actionFailure(e, ctx.requestId);
  }
}

/** The session cookie for `userId`, via a ticket redeemed by next-auth's `ticket` provider. */
async function startSession(userId: string, method: SignInMethod): Promise<void> {
  const ticket = await mintTicket(await getRuntime(), userId, method);
  await signIn("ticket", { ticket, redirect: false });
}

export async function signUpAction(input: z.input<typeof ZSignupRequest>): Promise<ActionResult<{ email: string }>> {
  return publicStep(ZSignupRequest, input, async (ctx, data) => ({ email: (await signup(ctx, data)).email }));
}

/**
 * The dashboard always sets the password while confirming: whoever opens the mailed link owns the
 * mailbox, but may not be who signed up, so the account takes only the password chosen here.
 */
const ZConfirmEmailInput = ZVerifyEmailRequest.required({ password: true });

export async function confirmEmailAction(input: z.input<typeof ZConfirmEmailInput>): Promise<ActionResult<{ confirmed: true }>> {
  return publicStep(ZConfirmEmailInput, input, async (ctx, data) => {
    await confirmEmail(ctx, data);
    return { confirmed: true as const };
  });
}

export async function forgotPasswordAction(input: z.input<typeof ZForgotPasswordRequest>): Promise<ActionResult<{ message: string }>> {
  return publicStep(ZForgotPasswordRequest, input, (ctx, data) => forgotPassword(ctx, data.email));
}

export async function resetPasswordAction(input: z.input<typeof ZResetPasswordRequest>): Promise<ActionResult<{ reset: true }>> {
  return publicStep(ZResetPasswordRequest, input, async (ctx, data) => {
    await resetPassword(ctx, data);
    return { reset: true as const };
  });
}

export async function passwordSignInAction(input: z.input<typeof ZLoginRequest>): Promise<ActionResult<PasswordStep>> {
  const step = await publicStep(ZLoginRequest, input, async (ctx, data) => {
    const user = await authenticatePassword(ctx, data);
    if (user.mfaEnabled) return { signed_in: false as const, mfa_token: (await ctx.rt.tokens.issueMfaToken(user)).token };
    return { signed_in: true as const, userId: user.id };
  });
  if (!step.ok || !step.data.signed_in) return step as ActionResult<PasswordStep>;
  await startSession(step.data.userId, "password");
  return { ok: true, data: { signed_in: true } };
}

export async function totpSignInAction(input: z.input<typeof ZMfaVerifyRequest>): Promise<ActionResult<SignedIn>> {
  const step = await publicStep(ZMfaVerifyRequest, input, (ctx, data) => verifyMfaChallenge(ctx, data));
  if (!step.ok) return step;
  await startSession(step.data.user.id, step.data.used === "totp" ? "password+totp" : "password+recovery_code");
  return { ok: true, data: { signed_in: true } };
}

export async function passkeySignInOptionsAction(): Promise<ActionResult<Awaited<ReturnType<typeof passkeySignInOptions>>>> {
  return publicStep(z.undefined(), undefined, (ctx) => passkeySignInOptions(ctx));
}

export async function passkeySignInAction(input: z.input<typeof ZPasskeySignInInput>): Promise<ActionResult<SignedIn>> {
  const step = await publicStep(ZPasskeySignInInput, input, (ctx, data) => verifyPasskeySignIn(ctx, data));
  if (!step.ok) return step;
  await startSession(step.data.id, "passkey");
  return { ok: true, data: { signed_in: true } };
}

export async function acceptInviteAction(input: z.input<typeof ZAcceptInvitationRequest>): Promise<ActionResult<SignedIn>> {
  const step = await publicStep(ZAcceptInvitationRequest, input, (ctx, data) => joinByInvitation(ctx, data));
  if (!step.ok) return step;
  await startSession(step.data.id, "password");
  return { ok: true, data: { signed_in: true } };
}

/** Ends the session row first (so a copied cookie dies too), then clears the cookie. */
export async function signOutAction(): Promise<void> {
  const session = await auth();
  if (session?.sid) await revokeSession(await getRuntime(), session.sid);
  await signOut({ redirectTo: "/login" });
}
