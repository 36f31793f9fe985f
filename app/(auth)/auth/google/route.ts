import { cookies } from "next/headers";
import { authorizationUrl, callbackUrl, cookieOptions, discover, FAILED_LOCATION, FLOW_COOKIE, FLOW_TTL_SECONDS, googleClient, newFlow, redirectTo, sealCookie } from "@/server/dashboard/google-oidc";
import { dashboardSecret } from "@/server/dashboard/secret";
import { log } from "@/server/log";
import { getRuntime } from "@/server/runtime";

export const dynamic = "force-dynamic";

/** "Sign in with Google": a fresh state, nonce and PKCE verifier in a sealed cookie, then off to the issuer. */
export async function GET(): Promise<Response> {
  const rt = await getRuntime();
  const client = googleClient(rt.config);
  if (!client) return redirectTo(FAILED_LOCATION);
  try {
    const discovery = await discover(client.issuer);
    const flow = newFlow();
    (await cookies()).set(FLOW_COOKIE, sealCookie(dashboardSecret(rt.config), FLOW_COOKIE, flow, FLOW_TTL_SECONDS), cookieOptions(rt.config, FLOW_TTL_SECONDS));
    return redirectTo(authorizationUrl(discovery, client, callbackUrl(rt.config), flow));
  } catch (e) {
    log.warn("google sign-in could not start", { reason: e instanceof Error ? e.message.slice(0, 200) : "unknown" });
    return redirectTo(FAILED_LOCATION);
  }
}
