"use client";
import { type FormEvent, useState } from "react";
import { Button } from "@/components/ui/button";
import { Checkbox, TextAreaField, TextField, SelectField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";
import { useCmekPut } from "@/components/cmek/cmek-vault";
import { SECRET_TYPES, type SecretType } from "@/lib/contract/secrets";
import { ZPutSecretActionInput } from "./action-schemas";
import { formProblem } from "./problem-message";
import { EnvBundleEditor } from "./env-bundle-editor";
import { isoToLocalInput, type SecretFormState, toPutSecretInput } from "./secret-form-input";
import type { SecretActions, SecretRow } from "./types";

const MULTI_LINE_TYPES = new Set<SecretType>(["private_key", "certificate", "file", "note", "ssh_key", "env", "env_bundle"]);
const TYPE_OPTIONS = SECRET_TYPES.map((t) => ({ value: t, label: t }));
const SHOWN_FIELDS = ["path", "body.value", "body.type", "body.metadata", "body.expires_at", "body.max_access_count"];

function initialState(existing: SecretRow | undefined, defaultPath: string): SecretFormState {
  if (!existing) return { path: defaultPath, value: "", type: "generic", metadata: "", expiresAt: "", maxReads: "" };
  const future = existing.expires_at && Date.parse(existing.expires_at) > Date.now();
  return {
    path: existing.path,
    // Never prefilled: a new version's value is always typed again.
    value: "",
    type: existing.type,
    metadata: Object.keys(existing.metadata).length ? JSON.stringify(existing.metadata, null, 2) : "",
    expiresAt: future && existing.expires_at ? isoToLocalInput(existing.expires_at) : "",
    maxReads: existing.max_access_count > 0 ? String(existing.max_access_count) : "",
  };
}

/**
 * Stores a new secret, or a new version of `existing` (its path fixed, its value typed again). The
 * body is the PUT /v1/vaults/{id}/secrets/{path} body, validated with the same contract schema.
 */
export function SecretForm({
  vaultId,
  put: serverPut,
  existing,
  lookup,
  defaultPath = "",
  onDone,
  onSaved = onDone,
}: {
  vaultId: string;
  put: SecretActions["put"];
  existing?: SecretRow;
  /** For a new secret: finds a secret already at the typed path, so saving never silently adds a version to it. */
  lookup?: SecretActions["versions"];
  defaultPath?: string;
  onDone: () => void;
  /** After a successful save, with the written secret's path (defaults to `onDone`). */
  onSaved?: (path: string) => void;
}) {
  const [form, setForm] = useState<SecretFormState>(() => initialState(existing, defaultPath));
  const [multiLine, setMultiLine] = useState(() => MULTI_LINE_TYPES.has(form.type));
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const v = useSchemaValidation(ZPutSecretActionInput);
  // In a customer-key vault the value is encrypted here, in the browser, before it is sent.
  const put = useCmekPut(serverPut);
  const mutation = useAction(put, { onSuccess: (written) => onSaved(written.path) });
  const set = <K extends keyof SecretFormState>(key: K, value: SecretFormState[K]) => setForm((f) => ({ ...f, [key]: value }));
  // A path that already holds a secret, found on the first Save: the second Save stores version n+1.
  const [found, setFound] = useState<{ path: string; version: number } | null>(null);
  const [checking, setChecking] = useState(false);
  const [touched, setTouched] = useState({ type: false, metadata: false });
  const overwriting = found !== null && found.path === form.path.trim();

  /** True when the path is free (or cannot be checked: the write's own rules then decide). */
  async function pathIsFree(path: string): Promise<boolean> {
    if (!lookup) return true;
    setChecking(true);
    try {
      const r = await lookup({ vault_id: vaultId, path });
      const latest = r.ok ? r.data.versions.at(-1) : undefined;
      if (!latest) return true;
      setFound({ path, version: latest.version });
      // Kept unless the user changed them: a new value must not silently drop the secret's metadata or type.
      setForm((f) => ({
        ...f,
        type: touched.type ? f.type : (latest.type as SecretType),
        metadata: touched.metadata || f.metadata.trim() !== "" ? f.metadata : Object.keys(latest.metadata).length ? JSON.stringify(latest.metadata, null, 2) : "",
      }));
      return false;
    } finally {
      setChecking(false);
    }
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!existing && !overwriting && form.path.trim() !== "" && !(await pathIsFree(form.path.trim()))) return;
    const built = toPutSecretInput(vaultId, form);
    if (!built.ok) {
      v.clear();
      setLocalErrors(built.errors);
      return;
    }
    setLocalErrors({});
    const input = v.validate(built.input);
    if (input) mutation.mutate(input);
  }

  const err = mutation.error;
  const problem = formProblem(err, SHOWN_FIELDS);
  const errors = { ...v.errors, ...localErrors };
  const msg = (field: string) => fieldMessage(field, errors, err);
  const valueProps = {
    label: "Value",
    name: "value",
    value: form.value,
    required: true,
    autoComplete: "off",
    spellCheck: false,
    error: msg("body.value"),
    hint: existing ? `Type the whole value again; it is stored as version ${existing.version + 1}.` : undefined,
  };

  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-4">
      <TextField
        label="Path"
        name="path"
        value={form.path}
        onChange={(e) => set("path", e.target.value)}
        readOnly={Boolean(existing)}
        required
        autoComplete="off"
        spellCheck={false}
        placeholder="api-keys/stripe"
        hint={existing ? undefined : "Letters, digits, '_' and '-'; '/' makes folders."}
        error={msg("path")}
      />
      {form.type === "env_bundle" ? (
        <EnvBundleEditor value={form.value} onChange={(text) => set("value", text)} error={valueProps.error} />
      ) : multiLine ? (
        <TextAreaField {...valueProps} rows={6} onChange={(e) => set("value", e.target.value)} />
      ) : (
        <TextField {...valueProps} type="password" onChange={(e) => set("value", e.target.value)} />
      )}
      {form.type !== "env_bundle" && <Checkbox label="Multi-line value" checked={multiLine} onChange={(e) => setMultiLine(e.target.checked)} />}
      <SelectField
        label="Type"
        name="type"
        options={TYPE_OPTIONS}
        value={form.type}
        onChange={(e) => {
          const type = e.target.value as SecretType;
          setTouched((t) => ({ ...t, type: true }));
          set("type", type);
          if (MULTI_LINE_TYPES.has(type)) setMultiLine(true);
        }}
        error={msg("body.type")}
      />
      <TextAreaField
        label="Metadata (JSON)"
        name="metadata"
        value={form.metadata}
        onChange={(e) => {
          setTouched((t) => ({ ...t, metadata: true }));
          set("metadata", e.target.value);
        }}
        rows={3}
        placeholder='{"owner": "billing"}'
        hint="Optional. A JSON object; never put secrets here, metadata is listed in clear."
        error={msg("body.metadata")}
      />
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField
          label="Expires at"
          name="expires_at"
          type="datetime-local"
          value={form.expiresAt}
          onChange={(e) => set("expiresAt", e.target.value)}
          hint="Optional. Your local time; reads fail after it."
          error={msg("body.expires_at")}
        />
        <TextField
          label="Max reads"
          name="max_access_count"
          type="number"
          inputMode="numeric"
          min={0}
          step={1}
          value={form.maxReads}
          onChange={(e) => set("maxReads", e.target.value)}
          hint="Optional. Reads allowed for this version; empty or 0 = unlimited."
          error={msg("body.max_access_count")}
        />
      </div>
      {overwriting && (
        <Alert tone="amber" title={`${found.path} exists — store version ${found.version + 1}?`}>
          A secret is already stored at this path (version {found.version}). Saving adds version {found.version + 1} as its current value; earlier versions stay in its history. Its type and metadata are
          kept unless you change them above.
        </Alert>
      )}
      {problem && <Alert>{problem}</Alert>}
      <div className="flex justify-end gap-2">
        <Button variant="secondary" onClick={onDone}>
          Cancel
        </Button>
        <Button type="submit" pending={mutation.isPending || checking}>
          {existing ? "Save new version" : overwriting ? `Store version ${found.version + 1}` : "Save secret"}
        </Button>
      </div>
    </form>
  );
}
