"use client";
import Link from "next/link";
import type { FormEvent } from "react";
import type { z } from "zod";
import type { ActionResult } from "@/lib/dashboard/action-result";
import type { SignedIn } from "@/lib/dashboard/auth-steps";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";
import { ZGoogleMfaInput } from "./schema";

export function GoogleMfaForm({ action }: { action: (input: z.input<typeof ZGoogleMfaInput>) => Promise<ActionResult<SignedIn>> }) {
  const verify = useAction(action, { refresh: false, onSuccess: () => window.location.assign("/vaults") });
  const v = useSchemaValidation(ZGoogleMfaInput);

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const input = v.validate({ code: String(new FormData(e.currentTarget).get("code") ?? "").trim() });
    if (input) verify.mutate(input);
  }

  return (
    <form onSubmit={submit} className="flex flex-col gap-4" noValidate>
      <div>
        <h1 className="text-xl font-semibold text-zinc-50">Two-factor authentication</h1>
        <p className="mt-1 text-sm text-zinc-400">Google confirmed your account. Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>
      </div>
      {verify.error && !verify.error.field("code") && <Alert>{verify.error.problem.detail}</Alert>}
      <TextField label="Authentication code" name="code" autoComplete="one-time-code" autoFocus required maxLength={32} error={fieldMessage("code", v.errors, verify.error)} />
      <Button type="submit" pending={verify.isPending}>
        Verify
      </Button>
      <Link href="/login" className="text-center text-sm text-zinc-400 hover:text-zinc-200">
        Start over
      </Link>
    </form>
  );
}
