import type { Metadata } from "next";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { FAILED_LOCATION, MFA_COOKIE, openCookie } from "@/server/dashboard/google-oidc";
import { dashboardSecret } from "@/server/dashboard/secret";
import { getRuntime } from "@/server/runtime";
import { googleMfaSignInAction } from "./actions";
import { GoogleMfaForm } from "./google-mfa-form";

export const metadata: Metadata = { title: "Two-factor authentication" };
export const dynamic = "force-dynamic";

/** Reached from the Google callback when the account has MFA; without a live challenge, back to sign-in. */
export default async function GoogleMfaPage() {
  const rt = await getRuntime();
  if (typeof openCookie(dashboardSecret(rt.config), MFA_COOKIE, (await cookies()).get(MFA_COOKIE)?.value) !== "string") redirect(FAILED_LOCATION);
  return <GoogleMfaForm action={googleMfaSignInAction} />;
}
