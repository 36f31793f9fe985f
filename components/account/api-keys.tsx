"use client";
import { useState } from "react";
import { type ApiKeyResponse, type CreateApiKeyRequest, type CreateApiKeyResponse, ZCreateApiKeyRequest } from "@/lib/contract/auth";
import type { ActionError, ActionResult } from "@/lib/dashboard/action-result";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { SelectField, TextAreaField, TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert, Badge, EmptyState, Table, cellClass, formatDate } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";

type CreateKey = (input: CreateApiKeyRequest) => Promise<ActionResult<CreateApiKeyResponse>>;
type RevokeKey = (input: { api_key_id: string }) => Promise<ActionResult<null>>;

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_EXPIRY_DAYS = "90";
const EXPIRY_OPTIONS = [
  { value: "", label: "Never" },
  { value: "30", label: "In 30 days" },
  { value: "90", label: "In 90 days" },
  { value: "365", label: "In a year" },
];

/** The scopes box holds one pattern per line or comma separated; blanks are ignored. */
const scopeList = (text: string) =>
  text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== "");

/** The first message about the scopes list or one of its entries (`scopes.3`), client side first. */
function scopesMessage(clientErrors: Record<string, string>, error: ActionError | null): string | undefined {
  const about = (field: string) => field === "scopes" || field.startsWith("scopes.");
  return (
    Object.entries(clientErrors).find(([field]) => about(field))?.[1] ?? error?.problem.fields?.find((f) => about(f.field))?.message
  );
}

/** Personal `1ck_` keys act as you through the API; the full key is shown once, right after creation. */
export function CreateApiKeyForm({ create }: { create: CreateKey }) {
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState("");
  // A key nobody remembers should not live for ever: new keys default to 90 days.
  const [expiryDays, setExpiryDays] = useState(DEFAULT_EXPIRY_DAYS);
  const [created, setCreated] = useState<CreateApiKeyResponse | null>(null);
  const v = useSchemaValidation(ZCreateApiKeyRequest);
  const mutation = useAction(create, {
    onSuccess: (r) => {
      setCreated(r);
      setName("");
      setScopes("");
      setExpiryDays(DEFAULT_EXPIRY_DAYS);
    },
  });

  if (created) {
    return (
      <div className="flex flex-col gap-3" data-testid="new-api-key">
        <Alert tone="amber" title={`Copy the key “${created.key.name}” now`}>
          It is shown only this once. Anyone holding it can act as you through the API until you revoke it.
        </Alert>
        <code data-testid="new-api-key-value" className="break-all rounded-lg border border-zinc-700 bg-zinc-950 px-3 py-2 font-mono text-sm text-amber-200">
          {created.api_key}
        </code>
        <div className="flex flex-wrap gap-2">
          <CopyButton value={created.api_key} label="Copy key" />
          <Button variant="secondary" onClick={() => setCreated(null)}>
            Done
          </Button>
        </div>
      </div>
    );
  }
  return (
    <form
      noValidate
      className="flex flex-col gap-4"
      onSubmit={(e) => {
        e.preventDefault();
        const expires_at = expiryDays ? new Date(Date.now() + Number(expiryDays) * DAY_MS).toISOString() : undefined;
        const patterns = scopeList(scopes);
        const data = v.validate({ name, ...(patterns.length ? { scopes: patterns } : {}), ...(expires_at ? { expires_at } : {}) });
        if (data) mutation.mutate(data);
      }}
    >
      <div className="grid gap-4 sm:grid-cols-[1fr_12rem]">
        <TextField label="Key name" value={name} onChange={(e) => setName(e.target.value)} placeholder="laptop" autoComplete="off" error={fieldMessage("name", v.errors, mutation.error)} />
        <SelectField label="Expires" value={expiryDays} onChange={(e) => setExpiryDays(e.target.value)} options={EXPIRY_OPTIONS} error={fieldMessage("expires_at", v.errors, mutation.error)} />
      </div>
      <TextAreaField
        label="Scopes"
        value={scopes}
        onChange={(e) => setScopes(e.target.value)}
        placeholder={"ci/*\ndeploy/**"}
        rows={3}
        hint="Secret-path patterns the key is limited to, one per line or comma separated (* one segment, ** any depth). Empty: everything you can reach."
        error={scopesMessage(v.errors, mutation.error)}
      />
      {mutation.error && !mutation.error.problem.fields?.length && <Alert>{mutation.error.problem.detail}</Alert>}
      <div>
        <Button type="submit" pending={mutation.isPending}>
          Create key
        </Button>
      </div>
    </form>
  );
}

export function ApiKeysTable({ keys, revoke }: { keys: ApiKeyResponse[]; revoke: RevokeKey }) {
  if (keys.length === 0) return <EmptyState title="No API keys">Create a key to use the API, CLI or SDK as yourself.</EmptyState>;
  return (
    <Table label="API keys" head={["Name", "Key", "Scopes", "Created", "Last used", "Expires", <span key="a" className="sr-only">Actions</span>]}>
      {keys.map((k) => (
        <tr key={k.id}>
          <td className={`${cellClass} font-medium text-zinc-100`}>
            {k.name} {!k.is_active && <Badge tone="red">inactive</Badge>}
          </td>
          <td className={`${cellClass} whitespace-nowrap font-mono text-zinc-300`}>{k.key_prefix}…</td>
          <td className={`${cellClass} text-zinc-400`}>{k.scopes.length ? k.scopes.join(", ") : "—"}</td>
          <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(k.created_at)}</td>
          <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{k.last_used_at ? formatDate(k.last_used_at) : "Never"}</td>
          <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{k.expires_at ? formatDate(k.expires_at) : "Never"}</td>
          <td className={`${cellClass} text-right`}>
            <RevokeKeyButton apiKey={k} revoke={revoke} />
          </td>
        </tr>
      ))}
    </Table>
  );
}

function RevokeKeyButton({ apiKey, revoke }: { apiKey: ApiKeyResponse; revoke: RevokeKey }) {
  return (
    <ConfirmAction label="Revoke" title={`Revoke the key “${apiKey.name}”?`} confirmLabel="Revoke key" variant="secondary" action={revoke} input={{ api_key_id: apiKey.id }}>
      <p>
        Requests with <span className="font-mono">{apiKey.key_prefix}…</span> fail from now on. This cannot be undone.
      </p>
    </ConfirmAction>
  );
}
