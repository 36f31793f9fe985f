"use client";
import { type FormEvent, useState } from "react";
import { Button } from "@/components/ui/button";
import { SelectField, TextField } from "@/components/ui/field";
import { Alert, Badge } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import { type AgentAccessVerdict, type TestAgentAccessInput, ZTestAgentAccessInput } from "@/lib/contract/agent-reach";
import { problemMessage } from "@/components/vaults/problem-message";
import type { Action } from "@/components/vaults/types";
import type { VaultOption } from "./agent-key-panel";
import { fieldSentence } from "@/lib/dashboard/human-problem";

export type TestAgentAccess = Action<TestAgentAccessInput, AgentAccessVerdict>;

/** "Test access": would this agent be allowed to read, use or write this path? The server's decision and its refusal text. */
export function TestAccessForm({ agentId, vaults, test }: { agentId: string; vaults: VaultOption[]; test: TestAgentAccess }) {
  const [vaultId, setVaultId] = useState(vaults[0]?.id ?? "");
  const [path, setPath] = useState("");
  const [error, setError] = useState<string | null>(null);
  const mutation = useAction(test, { refresh: false });
  function submit(e: FormEvent) {
    e.preventDefault();
    const input = { agent_id: agentId, vault_id: vaultId, path: path.trim() };
    const parsed = ZTestAgentAccessInput.safeParse(input);
    if (!parsed.success) return setError(parsed.error.issues.map((i) => fieldSentence({ field: i.path.join(".") || "input", message: i.message })).join(" "));
    setError(null);
    mutation.mutate(input);
  }
  if (vaults.length === 0) return <p className="text-sm text-zinc-400">Create a vault to test access to it.</p>;
  const v = mutation.data;
  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-3" aria-label="Test access">
      <div className="grid gap-3 sm:grid-cols-[minmax(0,1fr)_minmax(0,2fr)_auto] sm:items-end">
        <SelectField label="Vault" value={vaultId} onChange={(e) => setVaultId(e.target.value)} options={vaults.map((x) => ({ value: x.id, label: x.name }))} />
        <TextField label="Secret path" value={path} onChange={(e) => setPath(e.target.value)} maxLength={512} placeholder="api-keys/stripe" autoComplete="off" spellCheck={false} error={error ?? undefined} />
        <Button type="submit" pending={mutation.isPending}>
          Test access
        </Button>
      </div>
      {mutation.error && <Alert>{problemMessage(mutation.error.problem)}</Alert>}
      {v && mutation.variables && (
        <div data-testid="access-verdict" className="flex flex-col gap-2 rounded-lg border border-zinc-800 p-3 text-sm" aria-live="polite">
          {(["read", "use", "write"] as const).map((op) => (
            <p key={op} className="flex flex-wrap items-center gap-2">
              <Badge tone={v[op].allowed ? "green" : "red"}>{`${op}: ${v[op].allowed ? "allowed" : "refused"}`}</Badge>
              {v[op].reason && <span className="text-zinc-300">{v[op].reason}</span>}
            </p>
          ))}
        </div>
      )}
    </form>
  );
}
