"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { ConfirmButton } from "@/components/ui/dialog";
import { useAction } from "@/components/ui/use-action";
import { problemMessage } from "./problem-message";
import type { DeleteVaultAction } from "./types";

/** Deletes the vault with every secret in it, then goes back to the vault list. */
export function DeleteVaultButton({ vaultId, name, remove }: { vaultId: string; name: string; remove: DeleteVaultAction }) {
  const [open, setOpen] = useState(false);
  const router = useRouter();
  // No refresh of this page: it no longer exists once the action succeeds.
  const mutation = useAction(remove, { refresh: false, onSuccess: () => router.push("/vaults") });
  return (
    <ConfirmButton
      label="Delete vault"
      title={`Delete vault ${name}?`}
      confirmLabel="Delete this vault"
      open={open}
      setOpen={(v) => {
        if (!v) mutation.reset();
        setOpen(v);
      }}
      pending={mutation.isPending || mutation.isSuccess}
      onConfirm={() => mutation.mutate({ vault_id: vaultId })}
    >
      <p>
        The vault, every secret in it (all versions) and its encryption key are deleted for good. Agents reading from it get 404. This cannot be
        undone.
      </p>
      {mutation.error && (
        <p role="alert" className="mt-3 text-red-400">
          {problemMessage(mutation.error.problem)}
        </p>
      )}
    </ConfirmButton>
  );
}
