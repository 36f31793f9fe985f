"use client";
import { useState } from "react";
import { type MeResponse, type UpdateMeRequest, ZUpdateMeRequest } from "@/lib/contract/auth";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { Button } from "@/components/ui/button";
import { Checkbox, TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";

type UpdateProfile = (input: UpdateMeRequest) => Promise<ActionResult<MeResponse>>;

export function ProfileForm({ me, update }: { me: MeResponse; update: UpdateProfile }) {
  const [displayName, setDisplayName] = useState(me.display_name);
  const [marketing, setMarketing] = useState(me.marketing_emails);
  const [saved, setSaved] = useState(false);
  const v = useSchemaValidation(ZUpdateMeRequest);
  const mutation = useAction(update, { onSuccess: () => setSaved(true) });
  return (
    <form
      noValidate
      className="flex flex-col gap-4"
      onSubmit={(e) => {
        e.preventDefault();
        setSaved(false);
        const data = v.validate({ display_name: displayName, marketing_emails: marketing });
        if (data) mutation.mutate(data);
      }}
    >
      <dl className="grid gap-1 text-sm sm:grid-cols-[8rem_1fr]">
        <dt className="text-zinc-500">Email</dt>
        <dd className="break-all text-zinc-100">{me.email}</dd>
        <dt className="text-zinc-500">Role</dt>
        <dd className="text-zinc-100">{me.role}</dd>
      </dl>
      <TextField
        label="Display name"
        value={displayName}
        onChange={(e) => setDisplayName(e.target.value)}
        autoComplete="name"
        error={fieldMessage("display_name", v.errors, mutation.error)}
      />
      <Checkbox label="Marketing emails" hint="Occasional product news. Security and billing notices are always sent." checked={marketing} onChange={(e) => setMarketing(e.target.checked)} />
      {mutation.error && !mutation.error.problem.fields?.length && <Alert>{mutation.error.problem.detail}</Alert>}
      {saved && <Alert tone="green">Profile saved.</Alert>}
      <div>
        <Button type="submit" pending={mutation.isPending}>
          Save profile
        </Button>
      </div>
    </form>
  );
}
