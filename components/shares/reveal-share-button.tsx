"use client";
import { useRouter } from "next/navigation";
import { type FormEvent, useId, useState } from "react";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { Dialog } from "@/components/ui/dialog";
import { Alert } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import type { SharedSecret } from "@/lib/contract/shares";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { SharePassphraseField } from "./share-passphrase-field";

export type RevealShare = (input: { id: string; passphrase?: string }) => Promise<ActionResult<SharedSecret>>;

/**
 * Reads an accepted share on click, through the share read path (one read is counted), and shows the
 * value in a dialog with Copy. The value lives only in this component's state and is dropped on close.
 */
export function RevealShareButton({ id, path, hint, needsPassphrase, reveal }: { id: string; path: string; hint: string; needsPassphrase: boolean; reveal: RevealShare }) {
  const hintId = useId();
  const [open, setOpen] = useState(false);
  const [passphrase, setPassphrase] = useState("");
  const [secret, setSecret] = useState<SharedSecret | null>(null);
  const router = useRouter();
  // The list refreshes on close, not on success: the read may use the share up, and a refreshed row
  // without this button would take the open dialog (and the value) with it.
  const mutation = useAction(reveal, { refresh: false, onSuccess: (data) => setSecret(data) });

  function start() {
    setSecret(null);
    mutation.reset();
    setOpen(true);
    if (!needsPassphrase) mutation.mutate({ id });
  }
  function submitPassphrase(e: FormEvent) {
    e.preventDefault();
    mutation.mutate({ id, passphrase });
  }
  function close() {
    if (mutation.status !== "idle") router.refresh();
    setOpen(false);
    setSecret(null);
    setPassphrase("");
    mutation.reset();
  }

  return (
    <div className="flex flex-col items-start gap-1">
      <Button variant="secondary" onClick={start} aria-describedby={hintId}>
        Reveal
      </Button>
      <p id={hintId} className="max-w-[14rem] text-xs text-zinc-500">
        {hint}
      </p>
      <Dialog open={open} onClose={close} title={secret ? "Shared secret" : "Reveal shared secret"}>
        <p className="text-sm text-zinc-400">
          <span className="font-mono text-zinc-100">{path}</span>
        </p>
        {secret ? (
          <>
            <pre data-testid="shared-secret-value" className="max-h-64 overflow-auto whitespace-pre-wrap break-all rounded-lg border border-zinc-700 bg-zinc-950 p-3 font-mono text-sm text-zinc-100">
              {secret.value}
            </pre>
            <p className="text-xs text-zinc-500">
              Reads used: {secret.access_count} of {secret.max_access_count === 0 ? "unlimited" : secret.max_access_count}
            </p>
            <div className="flex justify-end gap-2">
              <CopyButton value={secret.value} />
              <Button variant="ghost" onClick={close}>
                Close
              </Button>
            </div>
          </>
        ) : needsPassphrase ? (
          <form onSubmit={submitPassphrase} className="flex flex-col gap-4">
            <SharePassphraseField value={passphrase} onChange={setPassphrase} hint="The sender set a passphrase on this share. Revealing uses one read." />
            {mutation.error && <Alert>{mutation.error.problem.detail}</Alert>}
            <div className="flex justify-end gap-2">
              <Button variant="secondary" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" pending={mutation.isPending}>
                Reveal value
              </Button>
            </div>
          </form>
        ) : (
          <>
            {mutation.isPending && <p className="text-sm text-zinc-400">Reading the share…</p>}
            {mutation.error && <Alert>{mutation.error.problem.detail}</Alert>}
            <div className="flex justify-end">
              <Button variant="secondary" onClick={close}>
                Close
              </Button>
            </div>
          </>
        )}
      </Dialog>
    </div>
  );
}
