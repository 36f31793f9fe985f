"use client";
import Link from "next/link";
import type { FormEvent } from "react";
import { ZForgotPasswordRequest } from "@/lib/contract/auth";
import type { ForgotPasswordAction } from "@/lib/dashboard/auth-steps";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";

export function ForgotPasswordForm({ requestReset }: { requestReset: ForgotPasswordAction }) {
  const v = useSchemaValidation(ZForgotPasswordRequest);
  const request = useAction(requestReset, { refresh: false });

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const input = v.validate({ email: String(new FormData(e.currentTarget).get("email") ?? "").trim() });
    if (input) request.mutate(input);
  }

  if (request.isSuccess) {
    return (
      <div className="flex flex-col gap-4" data-testid="forgot-password-done">
        <h1 className="text-xl font-semibold text-zinc-50">Check your email</h1>
        <p className="text-sm text-zinc-400">{request.data.message}</p>
        <Link href="/login" className="text-sm font-medium text-amber-300 hover:text-amber-200">
          Back to sign in
        </Link>
      </div>
    );
  }

  return (
    <form onSubmit={submit} className="flex flex-col gap-4" noValidate>
      <div>
        <h1 className="text-xl font-semibold text-zinc-50">Forgot your password?</h1>
        <p className="mt-1 text-sm text-zinc-400">We will mail a link to choose a new one. Resetting signs you out everywhere.</p>
      </div>
      {request.error && !request.error.problem.fields && <Alert>{request.error.problem.detail}</Alert>}
      <TextField label="Email" name="email" type="email" autoComplete="email" required maxLength={254} error={fieldMessage("email", v.errors, request.error)} />
      <Button type="submit" pending={request.isPending}>
        Send reset link
      </Button>
      <p className="text-center text-sm text-zinc-400">
        Remembered it?{" "}
        <Link href="/login" className="font-medium text-amber-300 hover:text-amber-200">
          Sign in
        </Link>
      </p>
    </form>
  );
}
