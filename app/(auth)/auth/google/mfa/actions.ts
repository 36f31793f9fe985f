"use server";
import { cookies } from "next/headers";
import type { z } from "zod";
import type { ActionResult } from "@/lib/dashboard/action-result";
import type { SignedIn } from "@/lib/dashboard/auth-steps";
import { signIn } from "@/server/dashboard/auth";
import { actionFailure, invalidInput, publicCtx } from "@/server/dashboard/context";
import { cookieOptions, MFA_COOKIE, openCookie } from "@/server/dashboard/google-oidc";
import { dashboardSecret } from "@/server/dashboard/secret";
import { mintTicket, type SignInMethod } from "@/server/dashboard/sessions";
import { ApiError } from "@/server/http/errors";
import { checkAuthStepRate } from "@/server/http/rate-limit";
import { verifyMfaChallenge } from "@/server/identity/mfa";
import { ZGoogleMfaInput } from "./schema";

/**
 * Second factor after Google sign-in: the code is checked against the challenge sealed in the cookie
 * by the callback (same checks and failure limits as the password path), and only then is the session
 * opened. A wrong code leaves the challenge in place for another try until it expires.
 */
export async function googleMfaSignInAction(input: z.input<typeof ZGoogleMfaInput>): Promise<ActionResult<SignedIn>> {
  const parsed = ZGoogleMfaInput.safeParse(input);
  if (!parsed.success) return invalidInput(parsed.error.issues);
  const ctx = await publicCtx();
  const jar = await cookies();
  let userId: string;
  let method: SignInMethod;
  try {
    await checkAuthStepRate(ctx.rt, ctx.ip);
    const challenge = openCookie(dashboardSecret(ctx.rt.config), MFA_COOKIE, jar.get(MFA_COOKIE)?.value);
    if (typeof challenge !== "string") throw ApiError.unauthorized("This sign-in has expired. Start again with Google.");
    const verified = await verifyMfaChallenge(ctx, { mfa_token: challenge, code: parsed.data.code });
    userId = verified.user.id;
    method = verified.used === "totp" ? "google+totp" : "google+recovery_code";
  } catch (e) {
    return actionFailure(e, ctx.requestId);
  }
  jar.set(MFA_COOKIE, "", cookieOptions(ctx.rt.config, 0));
  await signIn("ticket", { ticket: await mintTicket(ctx.rt, userId, method), redirect: false });
  return { ok: true, data: { signed_in: true } };
}
