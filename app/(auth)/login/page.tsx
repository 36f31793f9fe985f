import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { LoginForm } from "@/components/auth/login-form";
import { optionalCtx } from "@/server/dashboard/context";
import { passkeySignInAction, passkeySignInOptionsAction, passwordSignInAction, totpSignInAction } from "../actions";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

const NOTICES: Record<string, string> = {
  verified: "Your email address is confirmed. Sign in to continue.",
  "password-changed": "Your password was changed and every session ended. Sign in with the new password.",
  "signed-out": "You are signed out.",
};

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ next?: string; notice?: string }> }) {
  const { next, notice } = await searchParams;
  if (await optionalCtx()) redirect("/vaults");
  return (
    <LoginForm
      next={typeof next === "string" ? next : undefined}
      notice={typeof notice === "string" ? NOTICES[notice] : undefined}
      actions={{ password: passwordSignInAction, totp: totpSignInAction, passkeyOptions: passkeySignInOptionsAction, passkey: passkeySignInAction }}
    />
  );
}
