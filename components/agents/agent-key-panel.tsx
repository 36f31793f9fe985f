"use client";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { SelectField } from "@/components/ui/field";
import { Alert } from "@/components/ui/layout";
import { McpConfigTabs } from "./mcp-config-tabs";
import { VAULT_PLACEHOLDER } from "./mcp-config";

export type VaultOption = { id: string; name: string };

/**
 * Shows an agent's `ocv_` key right after registration or rotation, with a ready-to-paste MCP entry.
 * The key lives only in the parent's state: dismissing the panel or reloading the page drops it, and
 * the server keeps only its hash.
 */
export function AgentKeyPanel({
  agentId,
  agentName,
  apiKey,
  vaults,
  boundVaultIds,
  publicUrl,
  onDismiss,
}: {
  agentId: string;
  agentName: string;
  apiKey: string;
  vaults: VaultOption[];
  boundVaultIds: string[];
  publicUrl: string;
  onDismiss: () => void;
}) {
  // A bound agent can only reach its bound vaults, so offer those; otherwise any vault of the org.
  const choices = boundVaultIds.length ? vaults.filter((v) => boundVaultIds.includes(v.id)) : vaults;
  const [vaultId, setVaultId] = useState(choices[0]?.id ?? "");
  return (
    <section data-testid="agent-key-panel" aria-labelledby="agent-key-title" className="flex flex-col gap-4 rounded-xl border border-amber-500/50 bg-amber-500/5 p-5">
      <h2 id="agent-key-title" className="text-base font-semibold text-zinc-50">
        API key for {agentName}
      </h2>
      <Alert tone="amber" title="Copy this key now">
        It is shown only once. Talon stores only a hash: if you lose it, rotate the key on the agent&apos;s page.
      </Alert>
      <div className="flex flex-col gap-2 sm:flex-row sm:items-center">
        <code data-testid="agent-api-key" className="min-w-0 flex-1 break-all rounded-lg border border-zinc-700 bg-zinc-950 px-3 py-2 font-mono text-sm text-amber-200">
          {apiKey}
        </code>
        <CopyButton value={apiKey} label="Copy key" />
      </div>
      <div className="flex flex-col gap-2">
        <h3 className="text-sm font-semibold text-zinc-200">MCP client configuration</h3>
        {choices.length > 1 && (
          <SelectField label="Vault for ONECLAW_VAULT_ID" value={vaultId} onChange={(e) => setVaultId(e.target.value)} options={choices.map((v) => ({ value: v.id, label: v.name }))} />
        )}
        {choices.length === 0 && <p className="text-xs text-zinc-500">Create a vault, then replace {VAULT_PLACEHOLDER} with its id.</p>}
        <McpConfigTabs agentId={agentId} apiKey={apiKey} vaultId={vaultId || VAULT_PLACEHOLDER} baseUrl={publicUrl} />
      </div>
      <div className="flex justify-end">
        <Button variant="secondary" onClick={onDismiss}>
          I saved the key
        </Button>
      </div>
    </section>
  );
}
