"use client";
import Link from "next/link";
import type { FormEvent } from "react";
import { ZSignupRequest } from "@/lib/contract/auth";
import { DISPLAY_NAME_MAX } from "@/lib/contract/names";
import type { SignUpAction } from "@/lib/dashboard/auth-steps";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";

export function SignupForm({ signUp }: { signUp: SignUpAction }) {
  const v = useSchemaValidation(ZSignupRequest);
  const signup = useAction(signUp, { refresh: false });

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const name = String(f.get("display_name") ?? "").trim();
    const input = v.validate({ email: String(f.get("email") ?? "").trim(), password: String(f.get("password") ?? ""), ...(name ? { display_name: name } : {}) });
    if (input) signup.mutate(input);
  }

  if (signup.isSuccess) {
    return (
      <div className="flex flex-col gap-4" data-testid="signup-done">
        <h1 className="text-xl font-semibold text-zinc-50">Check your email</h1>
        <p className="text-sm text-zinc-400">
          We sent a confirmation link to <span className="font-medium text-zinc-200">{signup.data.email}</span>. Open it to activate your account, then sign in.
        </p>
        <Link href="/login" className="text-sm font-medium text-amber-300 hover:text-amber-200">
          Go to sign in
        </Link>
      </div>
    );
  }

  return (
    <form onSubmit={submit} className="flex flex-col gap-4" noValidate>
      <div>
        <h1 className="text-xl font-semibold text-zinc-50">Create your account</h1>
        <p className="mt-1 text-sm text-zinc-400">You get an organisation of your own; invite your team later.</p>
      </div>
      {signup.error && !signup.error.problem.fields && <Alert>{signup.error.problem.detail}</Alert>}
      <TextField label="Name" name="display_name" autoComplete="name" maxLength={DISPLAY_NAME_MAX} error={fieldMessage("display_name", v.errors, signup.error)} />
      <TextField label="Email" name="email" type="email" autoComplete="email" required maxLength={254} error={fieldMessage("email", v.errors, signup.error)} />
      <TextField
        label="Password"
        name="password"
        type="password"
        autoComplete="new-password"
        required
        maxLength={256}
        hint="At least 12 characters. A passphrase of a few random words works well."
        error={fieldMessage("password", v.errors, signup.error)}
      />
      <Button type="submit" pending={signup.isPending}>
        Create account
      </Button>
      <p className="text-center text-sm text-zinc-400">
        Already have an account?{" "}
        <Link href="/login" className="font-medium text-amber-300 hover:text-amber-200">
          Sign in
        </Link>
      </p>
    </form>
  );
}
