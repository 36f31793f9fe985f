"use client";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { formatDotenvLine } from "@/lib/env-file";
import { ENV_NAME_RE, parseEnvBundle } from "@/lib/sdk/env-bundle";

type Row = { id: number; key: string; value: string };

let nextId = 1;
const row = (key = "", value = ""): Row => ({ id: nextId++, key, value });

/** `KEY=VALUE` lines as `parseEnvBundle` (talon run, get_env_bundle) reads them back. */
export function bundleText(rows: { key: string; value: string }[]): string {
  return rows
    .filter((r) => r.key !== "")
    .map((r) => (/[\r\n]/.test(r.value) || /^\s|\s$/.test(r.value) || /^["']/.test(r.value) ? formatDotenvLine(r.key, r.value) : `${r.key}=${r.value}`))
    .join("\n");
}

/**
 * An `env_bundle` value as a key/value table: each change writes the bundle text into the form's value,
 * so what is stored is exactly what `talon run` and the MCP `get_env_bundle` tool parse. A value that
 * does not parse as a bundle (typed as text before) starts the table empty and keeps the text until
 * the table is edited.
 */
export function EnvBundleEditor({ value, onChange, error }: { value: string; onChange: (text: string) => void; error?: string }) {
  const [rows, setRows] = useState<Row[]>(() => {
    const parsed = parseEnvBundle(value);
    const vars = parsed.ok ? Object.entries(parsed.vars) : [];
    return vars.length ? vars.map(([k, v]) => row(k, v)) : [row()];
  });
  const update = (next: Row[]) => {
    setRows(next);
    onChange(bundleText(next));
  };
  const keys = rows.map((r) => r.key);
  return (
    <fieldset className="flex flex-col gap-2" data-testid="env-bundle-editor">
      <legend className="mb-1.5 text-sm font-medium text-zinc-200">Variables</legend>
      {rows.map((r, i) => {
        const badKey = r.key !== "" && !ENV_NAME_RE.test(r.key);
        const dup = r.key !== "" && keys.indexOf(r.key) !== i;
        return (
          <div key={r.id} className="grid grid-cols-[minmax(0,2fr)_minmax(0,3fr)_auto] items-start gap-2">
            <div>
              <input
                aria-label={`Variable ${i + 1} name`}
                value={r.key}
                onChange={(e) => update(rows.map((x) => (x.id === r.id ? { ...x, key: e.target.value.trim() } : x)))}
                placeholder="NAME"
                maxLength={256}
                autoComplete="off"
                spellCheck={false}
                aria-invalid={badKey || dup || undefined}
                className="w-full rounded-lg border border-zinc-700 bg-zinc-950 px-3 py-2 font-mono text-sm text-zinc-100 focus:outline-none focus:ring-2 focus:ring-amber-400/60"
              />
              {(badKey || dup) && <p className="mt-1 text-xs text-red-400">{dup ? "Already set above" : "Letters, digits and _, not starting with a digit"}</p>}
            </div>
            <input
              aria-label={`Variable ${i + 1} value`}
              type="password"
              value={r.value}
              onChange={(e) => update(rows.map((x) => (x.id === r.id ? { ...x, value: e.target.value } : x)))}
              autoComplete="off"
              spellCheck={false}
              className="w-full rounded-lg border border-zinc-700 bg-zinc-950 px-3 py-2 font-mono text-sm text-zinc-100 focus:outline-none focus:ring-2 focus:ring-amber-400/60"
            />
            <Button variant="ghost" aria-label={`Remove variable ${i + 1}`} onClick={() => update(rows.length > 1 ? rows.filter((x) => x.id !== r.id) : [row()])}>
              Remove
            </Button>
          </div>
        );
      })}
      <div>
        <Button variant="secondary" onClick={() => update([...rows, row()])}>
          Add variable
        </Button>
      </div>
      {error && (
        <p role="alert" className="text-xs text-red-400">
          {error}
        </p>
      )}
    </fieldset>
  );
}
