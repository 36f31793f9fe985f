"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { Dialog } from "@/components/ui/dialog";
import { problemMessage } from "./problem-message";
import { folderHref } from "./folder-nav";
import { SecretForm } from "./secret-form";
import { parentPrefix } from "./secret-tree";
import type { SecretActions, SecretRow } from "./types";

/**
 * "New secret": the form in a dialog, its path starting at the folder being browsed; a secret saved
 * into another folder takes the page to that folder, so it is shown.
 */
export function NewSecretButton({ vaultId, put, lookup, defaultPath }: { vaultId: string; put: SecretActions["put"]; lookup: SecretActions["versions"]; defaultPath: string }) {
  const [open, setOpen] = useState(false);
  const router = useRouter();
  function saved(path: string) {
    setOpen(false);
    const folder = parentPrefix(path);
    if (folder !== defaultPath) router.push(folderHref(vaultId, folder));
  }
  return (
    <>
      <Button onClick={() => setOpen(true)}>New secret</Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="New secret">
        <SecretForm vaultId={vaultId} put={put} lookup={lookup} defaultPath={defaultPath} onDone={() => setOpen(false)} onSaved={saved} />
      </Dialog>
    </>
  );
}

/** "Edit": stores a new version of the secret; nothing of the old value is shown or sent. */
export function EditSecretButton({ vaultId, put, secret }: { vaultId: string; put: SecretActions["put"]; secret: SecretRow }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant="ghost" onClick={() => setOpen(true)} aria-label={`Edit ${secret.path}`}>
        Edit
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title={`New version of ${secret.path}`}>
        <SecretForm vaultId={vaultId} put={put} existing={secret} onDone={() => setOpen(false)} />
      </Dialog>
    </>
  );
}

export function DeleteSecretButton({ vaultId, path, remove }: { vaultId: string; path: string; remove: SecretActions["remove"] }) {
  return (
    <ConfirmAction
      label="Delete"
      title={`Delete ${path}?`}
      confirmLabel="Delete secret"
      variant="ghost"
      action={remove}
      input={{ vault_id: vaultId, path }}
      describeProblem={problemMessage}
    >
      <p>Every version of this secret stops being readable at once; agents reading it get 410 Gone. Storing a value at this path again restores it as a new version.</p>
    </ConfirmAction>
  );
}
