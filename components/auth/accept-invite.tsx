"use client";
import type { FormEvent } from "react";
import { ZAcceptInvitationRequest } from "@/lib/contract/org";
import type { AcceptInviteAction } from "@/lib/dashboard/auth-steps";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";
import { useFragmentToken } from "./fragment-token";

export function AcceptInvite({ acceptInvite }: { acceptInvite: AcceptInviteAction }) {
  const { token, ready } = useFragmentToken();
  const v = useSchemaValidation(ZAcceptInvitationRequest);
  const accept = useAction(acceptInvite, { refresh: false, onSuccess: () => window.location.assign("/vaults") });

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const name = String(f.get("display_name") ?? "").trim();
    const input = v.validate({ token, password: String(f.get("password") ?? ""), ...(name ? { display_name: name } : {}) });
    if (input) accept.mutate(input);
  }

  if (ready && !token) return <Alert>This invitation link has no token. Open the link from the email exactly as it was sent.</Alert>;
  return (
    <form onSubmit={submit} className="flex flex-col gap-4" noValidate>
      <div>
        <h1 className="text-xl font-semibold text-zinc-50">Join your team on Talon</h1>
        <p className="mt-1 text-sm text-zinc-400">Choose a password for your new account.</p>
      </div>
      {accept.error && !accept.error.problem.fields && <Alert>{accept.error.problem.detail}</Alert>}
      <TextField label="Name" name="display_name" autoComplete="name" maxLength={255} error={fieldMessage("display_name", v.errors, accept.error)} />
      <TextField
        label="Password"
        name="password"
        type="password"
        autoComplete="new-password"
        required
        maxLength={256}
        hint="At least 12 characters."
        error={fieldMessage("password", v.errors, accept.error)}
      />
      <Button type="submit" pending={accept.isPending} disabled={!token}>
        Accept invitation
      </Button>
    </form>
  );
}
