"use client";
import { useEffect } from "react";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { useAction } from "@/components/ui/use-action";
import { problemMessage } from "./problem-message";
import type { SecretActions } from "./types";

/**
 * A secret's value, masked until the user clicks Reveal. The click runs the API's audited read; the
 * value exists only in this component's mutation state and is dropped on Hide or when it unmounts.
 */
export function RevealSecret({ vaultId, path, reveal }: { vaultId: string; path: string; reveal: SecretActions["reveal"] }) {
  const mutation = useAction(reveal);
  const { reset } = mutation;
  useEffect(() => reset, [reset]);

  if (mutation.data) {
    return (
      <div className="flex min-w-48 flex-col gap-2">
        <pre data-testid="secret-value" aria-label={`Value of ${path}`} className="max-h-40 max-w-sm overflow-auto whitespace-pre-wrap break-all rounded-md bg-zinc-950 px-2 py-1.5 font-mono text-xs text-zinc-100">
          {mutation.data.value}
        </pre>
        <div className="flex gap-2">
          <CopyButton value={mutation.data.value} />
          <Button variant="ghost" onClick={() => reset()} aria-label={`Hide ${path}`}>
            Hide
          </Button>
        </div>
      </div>
    );
  }
  return (
    <div className="flex flex-col gap-2">
      <div className="flex items-center gap-3">
        <span aria-label="Hidden value" className="font-mono tracking-widest text-zinc-500">
          ••••
        </span>
        <Button variant="secondary" pending={mutation.isPending} onClick={() => mutation.mutate({ vault_id: vaultId, path })} aria-label={`Reveal ${path}`}>
          Reveal
        </Button>
      </div>
      {mutation.error && (
        <p role="alert" className="max-w-xs text-xs text-red-400">
          {problemMessage(mutation.error.problem)}
        </p>
      )}
    </div>
  );
}
