"use client";
import { useState } from "react";
import { ConfirmButton } from "@/components/ui/dialog";
import { Alert } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import type { ActionResult } from "@/lib/dashboard/action-result";

export type RevokeShare = (input: { id: string }) => Promise<ActionResult<void>>;

export function RevokeShareButton({ id, path, recipient, revoke }: { id: string; path: string; recipient: string; revoke: RevokeShare }) {
  const [open, setOpen] = useState(false);
  const mutation = useAction(revoke, { onSuccess: () => setOpen(false) });
  return (
    <ConfirmButton
      label="Revoke"
      title="Revoke this share?"
      confirmLabel="Revoke share"
      pending={mutation.isPending}
      onConfirm={() => mutation.mutate({ id })}
      open={open}
      setOpen={(v) => {
        if (!v) mutation.reset();
        setOpen(v);
      }}
    >
      <p>
        <span className="font-mono text-zinc-100">{path}</span> will no longer be readable by {recipient}. This cannot be undone; share it again if you change your mind.
      </p>
      {mutation.error && (
        <div className="mt-3">
          <Alert>{mutation.error.problem.detail}</Alert>
        </div>
      )}
    </ConfirmButton>
  );
}
