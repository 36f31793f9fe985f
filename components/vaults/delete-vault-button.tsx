"use client";
import { useRouter } from "next/navigation";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { problemMessage } from "./problem-message";
import type { DeleteVaultAction } from "./types";

/** Deletes the vault with every secret in it, then goes back to the vault list. */
export function DeleteVaultButton({ vaultId, name, remove }: { vaultId: string; name: string; remove: DeleteVaultAction }) {
  const router = useRouter();
  return (
    // No refresh of this page, and the dialog stays busy: the page no longer exists once the action succeeds.
    <ConfirmAction
      label="Delete vault"
      title={`Delete vault ${name}?`}
      confirmLabel="Delete this vault"
      action={remove}
      input={{ vault_id: vaultId }}
      refresh={false}
      closeOnSuccess={false}
      onSuccess={() => router.push("/vaults")}
      describeProblem={problemMessage}
    >
      <p>
        The vault, every secret in it (all versions) and its encryption key are deleted for good. Agents reading from it get 404. This cannot be
        undone.
      </p>
    </ConfirmAction>
  );
}
