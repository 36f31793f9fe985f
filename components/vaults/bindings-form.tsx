"use client";
import { useState } from "react";
import { BINDING_INJECT_KINDS, BINDING_METHODS, type BindingMethod, type BindingResponse } from "@/lib/contract/bindings";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { Button } from "@/components/ui/button";
import { Checkbox, SelectField, TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";
import { type CreateBindingInput, ZCreateBindingInput } from "./bindings-schemas";

export type CreateBinding = (input: CreateBindingInput) => Promise<ActionResult<BindingResponse>>;
type InjectKind = (typeof BINDING_INJECT_KINDS)[number];

const INJECT_LABELS: Record<InjectKind, string> = {
  bearer: "Authorization: Bearer <value>",
  header: "A named header",
  query: "A query parameter",
  basic: "Basic auth (value as the password)",
  env_field: "One variable of an env_bundle (as a bearer token)",
};

/** The injection as the contract takes it, from the form's flat fields. */
function injectOf(kind: InjectKind, f: { headerName: string; paramName: string; username: string; field: string }) {
  switch (kind) {
    case "header":
      return { kind, header_name: f.headerName };
    case "query":
      return { kind, param_name: f.paramName };
    case "basic":
      return { kind, username: f.username };
    case "env_field":
      return { kind, field: f.field };
    default:
      return { kind };
  }
}

/** Creates a binding: the destination (scheme, host, port, prefix, methods) and how the secret is injected. */
export function CreateBindingForm({ vaultId, create, onDone }: { vaultId: string; create: CreateBinding; onDone: () => void }) {
  const [name, setName] = useState("");
  const [secretPath, setSecretPath] = useState("");
  const [scheme, setScheme] = useState<"https" | "http">("https");
  const [host, setHost] = useState("");
  const [port, setPort] = useState("");
  const [prefix, setPrefix] = useState("/");
  const [methods, setMethods] = useState<BindingMethod[]>(["GET"]);
  const [kind, setKind] = useState<InjectKind>("bearer");
  const [headerName, setHeaderName] = useState("");
  const [paramName, setParamName] = useState("");
  const [username, setUsername] = useState("");
  const [field, setField] = useState("");
  const [internal, setInternal] = useState(false);
  const v = useSchemaValidation(ZCreateBindingInput);
  const mutation = useAction(create, { onSuccess: onDone });
  const err = (f: string) => fieldMessage(f, v.errors, mutation.error);
  return (
    <form
      noValidate
      aria-label="New binding"
      className="flex flex-col gap-4"
      onSubmit={(e) => {
        e.preventDefault();
        const data = v.validate({
          vault_id: vaultId,
          name,
          secret_path: secretPath,
          scheme,
          host,
          ...(port.trim() ? { port: Number(port) } : {}),
          path_prefix: prefix,
          methods,
          inject: injectOf(kind, { headerName, paramName, username, field }),
          internal,
        });
        if (data) mutation.mutate(data);
      }}
    >
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField label="Name" autoComplete="off" value={name} maxLength={64} onChange={(e) => setName(e.target.value)} error={err("name")} hint="Agents call the binding by this name, e.g. stripe-api" />
        <TextField label="Secret path" autoComplete="off" value={secretPath} maxLength={512} onChange={(e) => setSecretPath(e.target.value)} error={err("secret_path")} />
        <SelectField label="Scheme" value={scheme} onChange={(e) => setScheme(e.target.value === "http" ? "http" : "https")} options={[{ value: "https", label: "https" }, { value: "http", label: "http (internal only)" }]} error={err("scheme")} />
        <TextField label="Host" autoComplete="off" value={host} maxLength={253} onChange={(e) => setHost(e.target.value)} error={err("host")} hint="e.g. api.stripe.com" />
        <TextField label="Port (optional)" inputMode="numeric" value={port} onChange={(e) => setPort(e.target.value)} error={err("port")} />
        <TextField label="Path prefix" autoComplete="off" value={prefix} maxLength={512} onChange={(e) => setPrefix(e.target.value)} error={err("path_prefix")} hint="Requests must stay under it" />
      </div>
      <fieldset className="flex flex-col gap-2">
        <legend className="mb-1 text-sm font-medium text-zinc-200">Methods</legend>
        <div className="flex flex-wrap gap-4">
          {BINDING_METHODS.map((m) => (
            <Checkbox key={m} label={m} checked={methods.includes(m)} onChange={(e) => setMethods((cur) => (e.target.checked ? [...cur, m] : cur.filter((x) => x !== m)))} />
          ))}
        </div>
        {err("methods") && <p className="text-sm text-red-400">{err("methods")}</p>}
      </fieldset>
      <SelectField label="Inject the secret as" value={kind} onChange={(e) => setKind(e.target.value as InjectKind)} options={BINDING_INJECT_KINDS.map((k) => ({ value: k, label: INJECT_LABELS[k] }))} />
      {kind === "header" && <TextField label="Header name" autoComplete="off" value={headerName} onChange={(e) => setHeaderName(e.target.value)} error={err("inject.header_name")} hint="e.g. X-Api-Key" />}
      {kind === "query" && <TextField label="Query parameter name" autoComplete="off" value={paramName} onChange={(e) => setParamName(e.target.value)} error={err("inject.param_name")} />}
      {kind === "basic" && <TextField label="Basic auth user name" autoComplete="off" value={username} onChange={(e) => setUsername(e.target.value)} error={err("inject.username")} />}
      {kind === "env_field" && <TextField label="env_bundle variable" autoComplete="off" value={field} onChange={(e) => setField(e.target.value)} error={err("inject.field")} />}
      <Checkbox
        label="Internal destination (loopback, private or link-local addresses)"
        hint="Owners and admins only. Agents holding use on the secret path can then reach your private network through this binding."
        checked={internal}
        onChange={(e) => setInternal(e.target.checked)}
      />
      {internal && (
        <Alert tone="amber" title="This opens your network to agents">
          Talon normally refuses private and metadata addresses. An internal binding lets any agent allowed to use its secret send requests to this host and port.
        </Alert>
      )}
      {mutation.error && !mutation.error.problem.fields?.length && <Alert>{mutation.error.problem.detail}</Alert>}
      <div>
        <Button type="submit" pending={mutation.isPending}>
          Create binding
        </Button>
      </div>
    </form>
  );
}
