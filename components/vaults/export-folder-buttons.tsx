"use client";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import type { ExportSecretsRequest, ExportSecretsResponse } from "@/lib/contract/secret-transfer";
import { problemMessage } from "./problem-message";
import type { Action } from "./types";

export type ExportSecretsAction = Action<ExportSecretsRequest, ExportSecretsResponse>;

/** Hands the browser a file built here: the values travel only in the action's POST answer, never in a URL. */
function download(filename: string, content: string, type: string) {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * Export the folder being browsed as `.env` or JSON. Every value is a read (access rules, one audited
 * `secret.read` each); secrets that cannot or should not be read in bulk are named after the export.
 */
export function ExportFolderButtons({ vaultId, prefix, exportSecrets }: { vaultId: string; prefix: string; exportSecrets: ExportSecretsAction }) {
  const [result, setResult] = useState<Pick<ExportSecretsResponse, "filename" | "exported" | "skipped"> | null>(null);
  const mutation = useAction(exportSecrets, {
    refresh: false,
    onSuccess: (d, input) => {
      download(d.filename, d.content, input.format === "json" ? "application/json" : "text/plain");
      setResult({ filename: d.filename, exported: d.exported, skipped: d.skipped });
    },
  });
  const where = prefix ? `folder ${prefix}` : "the whole vault";
  return (
    <div className="flex flex-col gap-2">
      <div className="flex flex-wrap items-center gap-2">
        <span className="text-sm text-zinc-400">Export {where}:</span>
        <Button variant="secondary" pending={mutation.isPending && mutation.variables?.format === "env"} onClick={() => mutation.mutate({ vault_id: vaultId, prefix, format: "env" })}>
          Export .env
        </Button>
        <Button variant="secondary" pending={mutation.isPending && mutation.variables?.format === "json"} onClick={() => mutation.mutate({ vault_id: vaultId, prefix, format: "json" })}>
          Export JSON
        </Button>
      </div>
      {mutation.error && <Alert>{problemMessage(mutation.error.problem)}</Alert>}
      {result && !mutation.error && (
        <div data-testid="export-result">
          <Alert tone={result.skipped.length ? "amber" : "green"} title={`Exported ${result.exported.length} ${result.exported.length === 1 ? "secret" : "secrets"} to ${result.filename}`}>
            Each value was read once and recorded in the audit log.
            {result.skipped.length > 0 && (
              <ul className="mt-2 list-disc pl-5">
                {result.skipped.map((s) => (
                  <li key={s.path} className="break-all">
                    <span className="font-mono">{s.path}</span> not exported: {s.reason}
                  </li>
                ))}
              </ul>
            )}
          </Alert>
        </div>
      )}
    </div>
  );
}
