import { cookies } from "next/headers";
import type { NextRequest } from "next/server";
import { signIn } from "@/server/dashboard/auth";
import { publicCtx } from "@/server/dashboard/context";
import {
  callbackUrl,
  cookieOptions,
  discover,
  exchangeCode,
  FAILED_LOCATION,
  FLOW_COOKIE,
  googleClient,
  MFA_COOKIE,
  openFlow,
  redirectTo,
  sameState,
  sealCookie,
} from "@/server/dashboard/google-oidc";
import { dashboardSecret } from "@/server/dashboard/secret";
import { mintTicket } from "@/server/dashboard/sessions";
import { ApiError } from "@/server/http/errors";
import { checkAuthStepRate } from "@/server/http/rate-limit";
import { googleUser } from "@/server/identity/google";
import { MFA_TOKEN_TTL_SECONDS } from "@/server/identity/tokens";
import { log } from "@/server/log";

export const dynamic = "force-dynamic";

/**
 * Where the issuer sends the browser back. The state must match the sealed cookie (which is cleared
 * whatever happens, so a flow is used once); the code is redeemed with the PKCE verifier; the ID token
 * must carry the cookie's nonce. A user with MFA then enters a code (/auth/google/mfa); anyone else
 * gets a session. Logs name the failed step, never the code, state or a token.
 */
export async function GET(req: NextRequest): Promise<Response> {
  const ctx = await publicCtx();
  const client = googleClient(ctx.rt.config);
  const jar = await cookies();
  const secret = dashboardSecret(ctx.rt.config);
  const flow = openFlow(secret, jar.get(FLOW_COOKIE)?.value);
  jar.set(FLOW_COOKIE, "", cookieOptions(ctx.rt.config, 0));
  const failed = (step: string, e?: unknown) => {
    log.warn("google sign-in failed", { requestId: ctx.requestId, step, ...(e instanceof ApiError ? { status: e.status } : e instanceof Error ? { reason: e.message.slice(0, 200) } : {}) });
    return redirectTo(FAILED_LOCATION);
  };

  const params = req.nextUrl.searchParams;
  const code = params.get("code");
  if (!client) return failed("not_configured");
  if (!flow || !sameState(params.get("state"), flow.state)) return failed("state");
  // RFC 9207: an issuer that names itself must be ours (defends against mix-up with another issuer).
  const iss = params.get("iss");
  if (iss !== null && iss !== client.issuer) return failed("issuer");
  if (params.has("error") || !code || code.length > 2048) return failed("authorization");

  let user;
  try {
    await checkAuthStepRate(ctx.rt, ctx.ip);
    const idToken = await exchangeCode(await discover(client.issuer), client, { code, redirectUri: callbackUrl(ctx.rt.config), verifier: flow.verifier });
    user = await googleUser(ctx, idToken, { nonce: flow.nonce });
  } catch (e) {
    return failed("token", e);
  }
  try {
    if (user.mfaEnabled) {
      // Google proved who this is; the second factor is still owed. The challenge stays server-side.
      const challenge = await ctx.rt.tokens.issueMfaToken(user);
      jar.set(MFA_COOKIE, sealCookie(secret, MFA_COOKIE, challenge.token, MFA_TOKEN_TTL_SECONDS), cookieOptions(ctx.rt.config, MFA_TOKEN_TTL_SECONDS));
      return redirectTo("/auth/google/mfa");
    }
    await signIn("ticket", { ticket: await mintTicket(ctx.rt, user.id, "google"), redirect: false });
    return redirectTo("/vaults");
  } catch (e) {
    return failed("session", e);
  }
}
