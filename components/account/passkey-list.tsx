"use client";
import { startRegistration } from "@simplewebauthn/browser";
import { type FormEvent, useState } from "react";
import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/browser";
import type { z } from "zod";
import { type PasskeySummary, ZPasskeyName, type ZRegisterPasskeyInput } from "@/lib/contract/passkeys";
import { ActionError, type ActionResult } from "@/lib/dashboard/action-result";
import { Button } from "@/components/ui/button";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { TextField } from "@/components/ui/field";
import { Alert, EmptyState, formatDate } from "@/components/ui/layout";
import { useRouter } from "next/navigation";
import { humanFieldText } from "@/lib/dashboard/human-problem";

export type PasskeyActions = {
  options: () => Promise<ActionResult<{ challenge_id: string; options: PublicKeyCredentialCreationOptionsJSON }>>;
  register: (input: z.input<typeof ZRegisterPasskeyInput>) => Promise<ActionResult<PasskeySummary>>;
  remove: (input: { id: string }) => Promise<ActionResult<{ deleted: true }>>;
};

function PasskeyRow({ passkey, remove }: { passkey: PasskeySummary; remove: PasskeyActions["remove"] }) {
  return (
    <li className="flex flex-wrap items-center justify-between gap-3 py-3">
      <div className="min-w-0">
        <p className="truncate text-sm font-medium text-zinc-100">{passkey.name}</p>
        <p className="text-xs text-zinc-500">
          Added {formatDate(passkey.created_at)} · last used {formatDate(passkey.last_used_at)}
        </p>
      </div>
      <ConfirmAction label="Remove" variant="ghost" title={`Remove the passkey “${passkey.name}”?`} confirmLabel="Remove passkey" action={remove} input={{ id: passkey.id }}>
        You will no longer be able to sign in with it.
      </ConfirmAction>
    </li>
  );
}

export function PasskeyList({ passkeys, actions }: { passkeys: PasskeySummary[]; actions: PasskeyActions }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [nameError, setNameError] = useState<string | undefined>();
  const [pending, setPending] = useState(false);

  async function add(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const name = ZPasskeyName.safeParse(new FormData(form).get("name") ?? "");
    if (!name.success) return setNameError(humanFieldText(name.error.issues[0]?.message ?? ""));
    setNameError(undefined);
    setError(null);
    setPending(true);
    try {
      const opts = await actions.options();
      if (!opts.ok) throw new ActionError(opts.problem);
      const response = await startRegistration({ optionsJSON: opts.data.options });
      const r = await actions.register({ challenge_id: opts.data.challenge_id, name: name.data, response: response as unknown as z.input<typeof ZRegisterPasskeyInput>["response"] });
      if (!r.ok) throw new ActionError(r.problem);
      form.reset();
      router.refresh();
    } catch (err) {
      setError(err instanceof ActionError ? err.problem.detail : "The passkey prompt was cancelled or failed. Try again.");
    } finally {
      setPending(false);
    }
  }

  return (
    <div className="flex flex-col gap-4">
      {passkeys.length === 0 ? (
        <EmptyState title="No passkeys yet">Add one to sign in without typing a password.</EmptyState>
      ) : (
        <ul className="divide-y divide-zinc-800" aria-label="Your passkeys">
          {passkeys.map((p) => (
            <PasskeyRow key={p.id} passkey={p} remove={actions.remove} />
          ))}
        </ul>
      )}
      {error && <Alert>{error}</Alert>}
      <form onSubmit={add} className="flex flex-col gap-3 sm:flex-row sm:items-end" noValidate>
        <div className="flex-1">
          <TextField label="Passkey name" name="name" placeholder="e.g. Work laptop" maxLength={64} error={nameError} />
        </div>
        <Button type="submit" variant="secondary" pending={pending}>
          Add a passkey
        </Button>
      </form>
    </div>
  );
}
