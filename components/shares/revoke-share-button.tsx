"use client";
import { ConfirmAction } from "@/components/ui/confirm-action";
import type { ActionResult } from "@/lib/dashboard/action-result";

export type RevokeShare = (input: { id: string }) => Promise<ActionResult<void>>;

export function RevokeShareButton({ id, path, recipient, revoke }: { id: string; path: string; recipient: string; revoke: RevokeShare }) {
  return (
    <ConfirmAction label="Revoke" title="Revoke this share?" confirmLabel="Revoke share" action={revoke} input={{ id }}>
      <p>
        <span className="font-mono text-zinc-100">{path}</span> will no longer be readable by {recipient}. This cannot be undone; share it again if you change your mind.
      </p>
    </ConfirmAction>
  );
}
