"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { TextField } from "@/components/ui/field";
import { Alert } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import { problemMessage } from "./problem-message";
import type { DeleteVaultAction } from "./types";

/**
 * Deletes the vault with every secret in it, then goes back to the vault list. The delete button stays
 * disabled until the vault's name is typed exactly: a vault is the one thing here that cannot come back.
 */
export function DeleteVaultButton({ vaultId, name, remove }: { vaultId: string; name: string; remove: DeleteVaultAction }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  // No refresh of this page, and the dialog stays busy: the page no longer exists once the action succeeds.
  const mutation = useAction(remove, { refresh: false, onSuccess: () => router.push("/vaults") });
  const matches = typed === name;
  return (
    <>
      <Button
        variant="danger"
        onClick={() => {
          setTyped("");
          mutation.reset();
          setOpen(true);
        }}
      >
        Delete vault
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title={`Delete vault ${name}?`}>
        <form
          className="flex flex-col gap-4"
          onSubmit={(e) => {
            e.preventDefault();
            if (matches) mutation.mutate({ vault_id: vaultId });
          }}
        >
          <p className="text-sm text-zinc-300">
            The vault, every secret in it (all versions, deleted ones too) and its encryption key are deleted for good. Agents reading from it get 404.
            This cannot be undone.
          </p>
          <TextField
            label={`Type the vault's name (${name}) to confirm`}
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            autoComplete="off"
            spellCheck={false}
            maxLength={300}
          />
          {mutation.error && <Alert>{problemMessage(mutation.error.problem)}</Alert>}
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" variant="danger" disabled={!matches} pending={mutation.isPending || mutation.isSuccess}>
              Delete this vault
            </Button>
          </div>
        </form>
      </Dialog>
    </>
  );
}
