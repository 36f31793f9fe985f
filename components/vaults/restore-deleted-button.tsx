"use client";
import { ConfirmAction } from "@/components/ui/confirm-action";
import type { RestoreDeletedAction } from "./deleted-secrets";
import { problemMessage } from "./problem-message";

export function RestoreDeletedButton({ vaultId, path, restore }: { vaultId: string; path: string; restore: RestoreDeletedAction }) {
  return (
    <ConfirmAction
      label={`Restore ${path}`}
      title={`Restore ${path}?`}
      confirmLabel="Restore"
      variant="secondary"
      action={restore}
      input={{ vault_id: vaultId, path }}
      describeProblem={problemMessage}
    >
      <p>The secret comes back with all its versions, as it was when it was deleted. Share links that the delete ended stay ended.</p>
    </ConfirmAction>
  );
}
