"use client";
import Link from "next/link";
import type { FormEvent } from "react";
import { ZResetPasswordRequest } from "@/lib/contract/auth";
import type { ResetPasswordAction } from "@/lib/dashboard/auth-steps";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";
import { useFragmentToken } from "./fragment-token";

export function ResetPasswordForm({ resetPassword }: { resetPassword: ResetPasswordAction }) {
  const { token, ready } = useFragmentToken();
  const v = useSchemaValidation(ZResetPasswordRequest);
  const reset = useAction(resetPassword, { refresh: false });

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (!token) return;
    const input = v.validate({ token, new_password: String(new FormData(e.currentTarget).get("new_password") ?? "") });
    if (input) reset.mutate(input);
  }

  if (reset.isSuccess) {
    return (
      <div className="flex flex-col gap-4" data-testid="reset-password-done">
        <h1 className="text-xl font-semibold text-zinc-50">Password changed</h1>
        <Alert tone="green">Your new password is set. Every earlier session has ended.</Alert>
        <Link href="/login?notice=password-reset" className="text-sm font-medium text-amber-300 hover:text-amber-200">
          Continue to sign in
        </Link>
      </div>
    );
  }

  return (
    <form onSubmit={submit} className="flex flex-col gap-4" noValidate>
      <h1 className="text-xl font-semibold text-zinc-50">Choose a new password</h1>
      {ready && !token && (
        <Alert>
          This link has no reset token. Open the link from the email exactly as it was sent, or{" "}
          <Link href="/forgot-password" className="underline">
            ask for a new one
          </Link>
          .
        </Alert>
      )}
      {reset.error && !reset.error.field("new_password") && <Alert>{reset.error.problem.detail}</Alert>}
      <TextField
        label="New password"
        name="new_password"
        type="password"
        autoComplete="new-password"
        required
        maxLength={256}
        hint="At least 12 characters. Every session of this account ends when you save it."
        error={fieldMessage("new_password", v.errors, reset.error)}
      />
      <Button type="submit" pending={reset.isPending} disabled={!token}>
        Set new password
      </Button>
    </form>
  );
}
