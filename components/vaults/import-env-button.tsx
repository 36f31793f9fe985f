"use client";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { SelectField, TextAreaField, TextField } from "@/components/ui/field";
import { Alert, Badge, cellClass, Table } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import { type ImportSecretsRequest, type ImportSecretsResponse, ZImportSecretsRequest } from "@/lib/contract/secret-transfer";
import { secretPathProblem } from "@/lib/contract/secret-path";
import { SECRET_TYPES } from "@/lib/contract/secrets";
import { parseDotenv } from "@/lib/env-file";
import { problemMessage } from "./problem-message";
import type { Action } from "./types";
import { fieldSentence } from "@/lib/dashboard/human-problem";

export type ImportSecretsAction = Action<ImportSecretsRequest, ImportSecretsResponse>;

type PreviewRow = { key: string; path: string; value: string; line: number; status: "new" | "exists" | "invalid"; note: string };

const FILE_MAX_BYTES = 1024 * 1024;

/** What importing `text` into `folder` would do, per variable, against the paths the page lists (path → current version). */
export function importPreview(text: string, folder: string, existing: Record<string, number>): { rows: PreviewRow[]; errors: { line: number; message: string }[] } {
  const { entries, errors } = parseDotenv(text);
  const rows = entries.map((e): PreviewRow => {
    const path = `${folder}${e.key}`;
    const problem = secretPathProblem(path);
    if (problem) return { key: e.key, path, value: e.value, line: e.line, status: "invalid", note: `Path ${problem}` };
    if (e.value === "") return { key: e.key, path, value: e.value, line: e.line, status: "invalid", note: "Empty value: skipped" };
    const version = existing[path];
    return version !== undefined
      ? { key: e.key, path, value: e.value, line: e.line, status: "exists", note: `Exists — stored as version ${version + 1}` }
      : { key: e.key, path, value: e.value, line: e.line, status: "new", note: "New secret" };
  });
  return { rows, errors };
}

const normaliseFolder = (f: string) => {
  const t = f.trim().replace(/^\/+/, "");
  return t === "" || t.endsWith("/") ? t : `${t}/`;
};

/**
 * Import from a pasted or uploaded `.env`: a preview first (each variable's path, new or existing —
 * which version it becomes — and lines that do not parse, by number); nothing is written until
 * "Import", and Cancel writes nothing. Each variable becomes one new version through the import action.
 */
export function ImportEnvButton({ vaultId, folder, existing, importSecrets }: { vaultId: string; folder: string; existing: Record<string, number>; importSecrets: ImportSecretsAction }) {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState("");
  const [target, setTarget] = useState(folder);
  const [type, setType] = useState<(typeof SECRET_TYPES)[number]>("generic");
  const [preview, setPreview] = useState<ReturnType<typeof importPreview> | null>(null);
  const [localError, setLocalError] = useState<string | null>(null);
  const [done, setDone] = useState<number | null>(null);
  const mutation = useAction(importSecrets, { onSuccess: (d) => setDone(d.written.length) });

  function reset() {
    setText("");
    setTarget(folder);
    setType("generic");
    setPreview(null);
    setLocalError(null);
    setDone(null);
    mutation.reset();
  }

  async function readFile(file: File | undefined) {
    if (!file) return;
    if (file.size > FILE_MAX_BYTES) return setLocalError("That file is larger than 1 MB.");
    setLocalError(null);
    setPreview(null);
    setText(await file.text());
  }

  function showPreview() {
    const f = normaliseFolder(target);
    if (f && secretPathProblem(f.slice(0, -1))) return setLocalError("The folder may contain only letters, digits, '_', '-' and '/'.");
    setLocalError(null);
    setTarget(f);
    setPreview(importPreview(text, f, existing));
  }

  const importable = preview?.rows.filter((r) => r.status !== "invalid") ?? [];
  function submit() {
    const input = { vault_id: vaultId, type, entries: importable.map((r) => ({ path: r.path, value: r.value })) };
    const parsed = ZImportSecretsRequest.safeParse(input);
    if (!parsed.success) return setLocalError(parsed.error.issues.map((i) => fieldSentence({ field: i.path.join(".") || "input", message: i.message })).join(" "));
    mutation.mutate(input);
  }

  return (
    <>
      <Button
        variant="secondary"
        onClick={() => {
          reset();
          setOpen(true);
        }}
      >
        Import .env
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="Import from .env" wide>
        {done !== null ? (
          <>
            <Alert tone="green" title={`Imported ${done} ${done === 1 ? "secret" : "secrets"}`}>
              Each variable was stored as one new version.
            </Alert>
            <div className="flex justify-end">
              <Button onClick={() => setOpen(false)}>Done</Button>
            </div>
          </>
        ) : (
          <>
            <div className="grid gap-3 sm:grid-cols-2">
              <TextField label="Into folder" value={target} onChange={(e) => { setTarget(e.target.value); setPreview(null); }} maxLength={400} placeholder="(vault root)" hint="Each variable NAME becomes the path folder/NAME." autoComplete="off" spellCheck={false} />
              <SelectField label="Type of new secrets" value={type} onChange={(e) => setType(e.target.value as typeof type)} options={SECRET_TYPES.map((t) => ({ value: t, label: t }))} hint="Existing secrets keep their type and metadata." />
            </div>
            <label className="flex flex-col gap-1.5 text-sm font-medium text-zinc-200">
              Upload a .env file
              <input type="file" accept=".env,text/plain" onChange={(e) => void readFile(e.target.files?.[0])} className="text-sm text-zinc-300 file:mr-3 file:rounded-lg file:border file:border-zinc-700 file:bg-zinc-900 file:px-3 file:py-1.5 file:text-zinc-100" />
            </label>
            <TextAreaField label="Or paste it" value={text} onChange={(e) => { setText(e.target.value); setPreview(null); }} rows={6} spellCheck={false} autoComplete="off" placeholder={"DATABASE_URL=postgres://…\nSTRIPE_KEY=sk_live_…"} />
            {localError && <Alert>{localError}</Alert>}
            {preview && (
              <div className="flex flex-col gap-3" data-testid="import-preview">
                {preview.errors.length > 0 && (
                  <Alert tone="amber" title="Lines that were not understood (left out)">
                    {preview.errors.map((e) => `line ${e.line}: ${e.message}`).join("; ")}
                  </Alert>
                )}
                {preview.rows.length === 0 ? (
                  <p className="text-sm text-zinc-400">No variables found.</p>
                ) : (
                  <Table label="Import preview" head={["Variable", "Path", "Result"]}>
                    {preview.rows.map((r) => (
                      <tr key={r.key} data-testid="import-row" data-path={r.path} data-status={r.status}>
                        <td className={`${cellClass} break-all font-mono`}>{r.key}</td>
                        <td className={`${cellClass} break-all font-mono text-zinc-300`}>{r.path}</td>
                        <td className={cellClass}>
                          <Badge tone={r.status === "new" ? "green" : r.status === "exists" ? "amber" : "red"}>{r.note}</Badge>
                        </td>
                      </tr>
                    ))}
                  </Table>
                )}
              </div>
            )}
            {mutation.error && <Alert>{problemMessage(mutation.error.problem)}</Alert>}
            <div className="flex flex-wrap justify-end gap-2">
              <Button variant="secondary" onClick={() => setOpen(false)}>
                Cancel
              </Button>
              {preview ? (
                <Button pending={mutation.isPending} disabled={importable.length === 0} onClick={submit}>
                  {`Import ${importable.length} ${importable.length === 1 ? "secret" : "secrets"}`}
                </Button>
              ) : (
                <Button disabled={text.trim() === ""} onClick={showPreview}>
                  Preview
                </Button>
              )}
            </div>
          </>
        )}
      </Dialog>
    </>
  );
}
