"use client";
import { type FormEvent, useState } from "react";
import { AUTH_METHODS, type CreateAgentResponse, ZCreateAgentRequest } from "@/lib/contract/agents";
import { Button } from "@/components/ui/button";
import { SelectField, TextAreaField, TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert, Card } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";
import { AgentKeyPanel, type VaultOption } from "./agent-key-panel";
import { AUTH_METHOD_LABELS } from "./agent-status";
import type { RegisterAgent } from "./actions";
import { lines, listFieldMessage, localToIso } from "./form-values";
import { VaultBindingField } from "./vault-binding-field";

type Method = (typeof AUTH_METHODS)[number];
const EMPTY = { name: "", description: "", auth_method: "api_key" as Method, fingerprint: "", issuer: "", clientId: "", scopes: "", expires: "", ttl: "" };

export function RegisterAgentForm({ register, vaults, publicUrl }: { register: RegisterAgent; vaults: VaultOption[]; publicUrl: string }) {
  const [f, setF] = useState(EMPTY);
  const [vaultIds, setVaultIds] = useState<string[]>([]);
  const [created, setCreated] = useState<CreateAgentResponse | null>(null);
  const v = useSchemaValidation(ZCreateAgentRequest);
  const mutation = useAction(register, {
    onSuccess: (res) => {
      setCreated(res);
      setF(EMPTY);
      setVaultIds([]);
    },
  });
  const set = (k: keyof typeof EMPTY) => (e: { target: { value: string } }) => setF((s) => ({ ...s, [k]: e.target.value }));
  const err = (name: string) => fieldMessage(name, v.errors, mutation.error);

  function submit(e: FormEvent) {
    e.preventDefault();
    const scopes = lines(f.scopes);
    const input = {
      name: f.name,
      auth_method: f.auth_method,
      ...(f.description ? { description: f.description } : {}),
      ...(scopes.length ? { scopes } : {}),
      ...(f.expires ? { expires_at: localToIso(f.expires) } : {}),
      ...(f.ttl ? { token_ttl_seconds: Number(f.ttl) } : {}),
      ...(vaultIds.length ? { vault_ids: vaultIds } : {}),
      ...(f.auth_method === "mtls" ? { client_cert_fingerprint: f.fingerprint } : {}),
      ...(f.auth_method === "oidc_client_credentials" ? { oidc_issuer: f.issuer, oidc_client_id: f.clientId } : {}),
    };
    if (v.validate(input)) mutation.mutate(input);
  }

  if (created?.api_key) {
    return (
      <AgentKeyPanel
        agentId={created.agent.id}
        agentName={created.agent.name}
        apiKey={created.api_key}
        vaults={vaults}
        boundVaultIds={created.agent.vault_ids}
        publicUrl={publicUrl}
        onDismiss={() => setCreated(null)}
      />
    );
  }

  return (
    <Card title="Register an agent" description="An agent is a program with its own identity; what it may read is decided by policies and its guardrails.">
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        {created && (
          <Alert tone="green" title={`Registered ${created.agent.name}`}>
            It authenticates with {AUTH_METHOD_LABELS[created.agent.auth_method]}, so it has no API key.
          </Alert>
        )}
        {mutation.error && <Alert>{mutation.error.problem.detail}</Alert>}
        <div className="grid gap-4 sm:grid-cols-2">
          <TextField label="Name" value={f.name} onChange={set("name")} maxLength={255} required error={err("name")} />
          <SelectField
            label="Auth method"
            value={f.auth_method}
            onChange={set("auth_method")}
            options={AUTH_METHODS.map((m) => ({ value: m, label: AUTH_METHOD_LABELS[m] }))}
            error={err("auth_method")}
          />
        </div>
        <TextField label="Description" value={f.description} onChange={set("description")} maxLength={2000} error={err("description")} />
        {f.auth_method === "mtls" && (
          <TextField
            label="Client certificate fingerprint"
            value={f.fingerprint}
            onChange={set("fingerprint")}
            hint="SHA-256 of the certificate (DER), 64 hex digits; colons allowed."
            error={err("client_cert_fingerprint")}
          />
        )}
        {f.auth_method === "oidc_client_credentials" && (
          <div className="grid gap-4 sm:grid-cols-2">
            <TextField label="OIDC issuer" type="url" value={f.issuer} onChange={set("issuer")} hint="Must be one of the server's allowed issuers." error={err("oidc_issuer")} />
            <TextField label="OIDC client id" value={f.clientId} onChange={set("clientId")} error={err("oidc_client_id")} />
          </div>
        )}
        <TextAreaField
          label="Scopes"
          value={f.scopes}
          onChange={set("scopes")}
          rows={3}
          placeholder={"api-keys/*\ndb/**"}
          hint="Optional ceiling on secret paths, one pattern per line. Empty: derived from the agent's policies."
          error={listFieldMessage("scopes", v.errors, mutation.error)}
        />
        <div className="grid gap-4 sm:grid-cols-2">
          <TextField label="Expires at" type="datetime-local" value={f.expires} onChange={set("expires")} hint="Optional; in your time zone." error={err("expires_at")} />
          <TextField
            label="Token TTL (seconds)"
            type="number"
            inputMode="numeric"
            min={60}
            max={86400}
            value={f.ttl}
            onChange={set("ttl")}
            hint="60–86400; empty = 3600."
            error={err("token_ttl_seconds")}
          />
        </div>
        <VaultBindingField vaults={vaults} value={vaultIds} onChange={setVaultIds} error={listFieldMessage("vault_ids", v.errors, mutation.error)} />
        <div>
          <Button type="submit" pending={mutation.isPending}>
            Register agent
          </Button>
        </div>
      </form>
    </Card>
  );
}
