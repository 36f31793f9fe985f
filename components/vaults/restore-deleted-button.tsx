"use client";
import { ConfirmAction } from "@/components/ui/confirm-action";
import type { RestoredSecret } from "@/lib/contract/secret-transfer";
import type { SecretRefInput } from "./action-schemas";
import { problemMessage } from "./problem-message";
import type { Action } from "./types";

export type RestoreDeletedAction = Action<SecretRefInput, RestoredSecret>;

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
