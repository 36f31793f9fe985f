"use client";
import { startAuthentication } from "@simplewebauthn/browser";
import Link from "next/link";
import { type FormEvent, useState } from "react";
import { ZLoginRequest, ZMfaVerifyRequest } from "@/lib/contract/auth";
import { ActionError } from "@/lib/dashboard/action-result";
import type { SignInActions } from "@/lib/dashboard/auth-steps";
import { Button, buttonClass } from "@/components/ui/button";
import { TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";

/** Where to go once signed in: the page that sent the user here, if it is one of ours. */
function destination(next: string | undefined): string {
  return next && /^\/[A-Za-z0-9/_-]*$/.test(next) && !next.startsWith("//") ? next : "/vaults";
}

export function LoginForm({ next, notice, google, actions }: { next?: string; notice?: { text: string; tone: "green" | "red" }; google?: boolean; actions: SignInActions }) {
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [passkeyError, setPasskeyError] = useState<string | null>(null);
  const [passkeyPending, setPasskeyPending] = useState(false);
  const done = () => window.location.assign(destination(next));
  const password = useAction(actions.password, {
    refresh: false,
    onSuccess: (r) => (r.signed_in ? done() : setMfaToken(r.mfa_token)),
  });
  const totp = useAction(actions.totp, { refresh: false, onSuccess: done });
  const loginV = useSchemaValidation(ZLoginRequest);
  const codeV = useSchemaValidation(ZMfaVerifyRequest);

  function submitPassword(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const input = loginV.validate({ email: String(f.get("email") ?? "").trim(), password: String(f.get("password") ?? "") });
    if (input) password.mutate(input);
  }

  function submitCode(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const input = codeV.validate({ mfa_token: mfaToken, code: String(f.get("code") ?? "").trim() });
    if (input) totp.mutate(input);
  }

  async function signInWithPasskey() {
    setPasskeyError(null);
    setPasskeyPending(true);
    try {
      const opts = await actions.passkeyOptions();
      if (!opts.ok) throw new ActionError(opts.problem);
      const response = await startAuthentication({ optionsJSON: opts.data.options });
      const r = await actions.passkey({ challenge_id: opts.data.challenge_id, response: response as unknown as Parameters<SignInActions["passkey"]>[0]["response"] });
      if (!r.ok) throw new ActionError(r.problem);
      done();
    } catch (e) {
      setPasskeyError(e instanceof ActionError ? e.problem.detail : "The passkey prompt was cancelled or failed. Try again.");
      setPasskeyPending(false);
    }
  }

  if (mfaToken) {
    return (
      <form onSubmit={submitCode} className="flex flex-col gap-4" noValidate>
        <div>
          <h1 className="text-xl font-semibold text-zinc-50">Two-factor authentication</h1>
          <p className="mt-1 text-sm text-zinc-400">Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>
        </div>
        {totp.error && !totp.error.field("code") && <Alert>{totp.error.problem.detail}</Alert>}
        <TextField
          label="Authentication code"
          name="code"
          autoComplete="one-time-code"
          inputMode="text"
          autoFocus
          required
          maxLength={32}
          error={fieldMessage("code", codeV.errors, totp.error)}
        />
        <Button type="submit" pending={totp.isPending}>
          Verify
        </Button>
        <button type="button" className="text-sm text-zinc-400 hover:text-zinc-200" onClick={() => setMfaToken(null)}>
          Start over
        </button>
      </form>
    );
  }

  return (
    <div className="flex flex-col gap-5">
      <div>
        <h1 className="text-xl font-semibold text-zinc-50">Sign in</h1>
        <p className="mt-1 text-sm text-zinc-400">Manage vaults, agents and access for your organisation.</p>
      </div>
      {notice && <Alert tone={notice.tone}>{notice.text}</Alert>}
      <form onSubmit={submitPassword} className="flex flex-col gap-4" noValidate>
        {password.error && !password.error.problem.fields && <Alert>{password.error.problem.detail}</Alert>}
        <TextField label="Email" name="email" type="email" autoComplete="username webauthn" required maxLength={254} error={fieldMessage("email", loginV.errors, password.error)} />
        <TextField label="Password" name="password" type="password" autoComplete="current-password" required maxLength={256} error={fieldMessage("password", loginV.errors, password.error)} />
        <Link href="/forgot-password" className="-mt-2 self-end text-xs font-medium text-amber-300 hover:text-amber-200">
          Forgot password?
        </Link>
        <Button type="submit" pending={password.isPending}>
          Sign in
        </Button>
      </form>
      <div className="flex items-center gap-3 text-xs text-zinc-500">
        <span className="h-px flex-1 bg-zinc-800" /> or <span className="h-px flex-1 bg-zinc-800" />
      </div>
      {passkeyError && <Alert>{passkeyError}</Alert>}
      <Button variant="secondary" onClick={signInWithPasskey} pending={passkeyPending}>
        Sign in with a passkey
      </Button>
      {google && (
        // A full page load: the route answers with a redirect to Google, which a client-side navigation cannot follow.
        <a href="/auth/google" className={buttonClass("secondary")}>
          Sign in with Google
        </a>
      )}
      <p className="text-center text-sm text-zinc-400">
        New to Talon?{" "}
        <Link href="/signup" className="font-medium text-amber-300 hover:text-amber-200">
          Create an account
        </Link>
      </p>
    </div>
  );
}
