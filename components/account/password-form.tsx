"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { type ChangePasswordRequest, ZChangePasswordRequest } from "@/lib/contract/auth";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";

type ChangePassword = (input: ChangePasswordRequest) => Promise<ActionResult<null>>;

/** Long enough to read the notice before the sign-in page replaces it. */
const SIGN_IN_AGAIN_DELAY_MS = 1500;

/**
 * A new password ends every session, this one included (the token version changes), so success
 * leads to the sign-in page.
 */
export function PasswordForm({ changePassword }: { changePassword: ChangePassword }) {
  const router = useRouter();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const [done, setDone] = useState(false);
  const v = useSchemaValidation(ZChangePasswordRequest);
  const mutation = useAction(changePassword, {
    refresh: false,
    onSuccess: () => {
      setDone(true);
      setTimeout(() => router.push("/login"), SIGN_IN_AGAIN_DELAY_MS);
    },
  });
  if (done) {
    return (
      <Alert tone="green" title="Password changed">
        You have been signed out on every device. Taking you to the sign-in page: sign in with your new password.
      </Alert>
    );
  }
  return (
    <form
      noValidate
      className="flex max-w-md flex-col gap-4"
      onSubmit={(e) => {
        e.preventDefault();
        const data = v.validate({ current_password: current, new_password: next });
        setMismatch(next !== repeat);
        if (data && next === repeat) mutation.mutate(data);
      }}
    >
      <TextField
        label="Current password"
        type="password"
        autoComplete="current-password"
        value={current}
        onChange={(e) => setCurrent(e.target.value)}
        error={fieldMessage("current_password", v.errors, mutation.error)}
      />
      <TextField
        label="New password"
        type="password"
        autoComplete="new-password"
        value={next}
        onChange={(e) => setNext(e.target.value)}
        hint="At least 12 characters."
        error={fieldMessage("new_password", v.errors, mutation.error)}
      />
      <TextField
        label="Repeat new password"
        type="password"
        autoComplete="new-password"
        value={repeat}
        onChange={(e) => setRepeat(e.target.value)}
        error={mismatch ? "does not match the new password" : undefined}
      />
      {mutation.error && !mutation.error.problem.fields?.length && <Alert>{mutation.error.problem.detail}</Alert>}
      <p className="text-xs text-zinc-500">Changing your password signs you out everywhere, including here.</p>
      <div>
        <Button type="submit" pending={mutation.isPending}>
          Change password
        </Button>
      </div>
    </form>
  );
}
