"use client";
import Link from "next/link";
import type { FormEvent } from "react";
import { ZResetPasswordRequest } from "@/lib/contract/auth";
import type { ConfirmEmailAction } from "@/lib/dashboard/auth-steps";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";
import { useFragmentToken } from "./fragment-token";

/**
 * Confirming an address also sets the account's password. Whoever opens the mailed link controls the
 * mailbox but may not be who signed up with it: asking here means the account ends up with a password
 * only the mailbox owner knows, and any session opened before ends.
 */
export function VerifyEmail({ confirmEmail }: { confirmEmail: ConfirmEmailAction }) {
  const { token, ready } = useFragmentToken();
  // The same rule as a reset: a token and a new password.
  const v = useSchemaValidation(ZResetPasswordRequest);
  const confirm = useAction(confirmEmail, { refresh: false });

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (!token) return;
    const input = v.validate({ token, new_password: String(new FormData(e.currentTarget).get("password") ?? "") });
    if (input) confirm.mutate({ token: input.token, password: input.new_password });
  }

  if (confirm.isSuccess) {
    return (
      <div className="flex flex-col gap-4">
        <h1 className="text-xl font-semibold text-zinc-50">Confirm your email</h1>
        <Alert tone="green">Your email address is confirmed and your password is set.</Alert>
        <Link href="/login?notice=verified" className="text-sm font-medium text-amber-300 hover:text-amber-200">
          Continue to sign in
        </Link>
      </div>
    );
  }

  return (
    <form onSubmit={submit} className="flex flex-col gap-4" noValidate>
      <div>
        <h1 className="text-xl font-semibold text-zinc-50">Confirm your email</h1>
        <p className="mt-1 text-sm text-zinc-400">Choose the password for this account. If someone else signed up with your address, their password stops working.</p>
      </div>
      {ready && !token && <Alert>This link has no confirmation token. Open the link from the email exactly as it was sent.</Alert>}
      {confirm.error && !confirm.error.field("password") && <Alert>{confirm.error.problem.detail}</Alert>}
      <TextField
        label="Password"
        name="password"
        type="password"
        autoComplete="new-password"
        required
        maxLength={256}
        hint="At least 12 characters. You may use the one you signed up with."
        error={fieldMessage("new_password", v.errors, null) ?? fieldMessage("password", {}, confirm.error)}
      />
      <Button type="submit" pending={confirm.isPending} disabled={!token}>
        Confirm and set password
      </Button>
    </form>
  );
}
