import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { LoginForm } from "@/components/auth/login-form";
import { optionalCtx } from "@/server/dashboard/context";
import { googleClient } from "@/server/dashboard/google-oidc";
import { getRuntime } from "@/server/runtime";
import { passkeySignInAction, passkeySignInOptionsAction, passwordSignInAction, totpSignInAction } from "../actions";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

const NOTICES: Record<string, { text: string; tone: "green" | "red" }> = {
  verified: { text: "Your email address is confirmed. Sign in to continue.", tone: "green" },
  "password-reset": { text: "Your new password is set and every earlier session ended. Sign in with it.", tone: "green" },
  "password-changed": { text: "Your password was changed and every session ended. Sign in with the new password.", tone: "green" },
  "signed-out": { text: "You are signed out.", tone: "green" },
  "google-failed": { text: "Google sign-in did not complete. Try again, or sign in another way.", tone: "red" },
};

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ next?: string; notice?: string }> }) {
  const { next, notice } = await searchParams;
  if (await optionalCtx()) redirect("/vaults");
  const google = googleClient((await getRuntime()).config) !== null;
  return (
    <LoginForm
      next={typeof next === "string" ? next : undefined}
      notice={typeof notice === "string" ? NOTICES[notice] : undefined}
      google={google}
      actions={{ password: passwordSignInAction, totp: totpSignInAction, passkeyOptions: passkeySignInOptionsAction, passkey: passkeySignInAction }}
    />
  );
}
