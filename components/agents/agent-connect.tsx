"use client";
import { useState } from "react";
import { SelectField } from "@/components/ui/field";
import type { VaultOption } from "./agent-key-panel";
import { VAULT_PLACEHOLDER } from "./mcp-config";
import { McpConfigTabs } from "./mcp-config-tabs";
import { API_KEY_PLACEHOLDER } from "./mcp-snippets";

/** MCP client configuration for an existing agent: its key was shown once, so the snippets hold a placeholder for it. */
export function AgentConnect({ agentId, vaults, boundVaultIds, publicUrl }: { agentId: string; vaults: VaultOption[]; boundVaultIds: string[]; publicUrl: string }) {
  const choices = boundVaultIds.length ? vaults.filter((v) => boundVaultIds.includes(v.id)) : vaults;
  const [vaultId, setVaultId] = useState(choices[0]?.id ?? "");
  return (
    <div className="flex min-w-0 flex-col gap-3">
      <p className="text-sm text-zinc-400">
        Replace {API_KEY_PLACEHOLDER} with the agent&apos;s key (shown once when it was registered or rotated; rotate it to get a new one).
      </p>
      {choices.length > 1 && (
        <SelectField label="Vault (X-Vault-ID / ONECLAW_VAULT_ID)" value={vaultId} onChange={(e) => setVaultId(e.target.value)} options={choices.map((v) => ({ value: v.id, label: v.name }))} />
      )}
      <McpConfigTabs agentId={agentId} apiKey={API_KEY_PLACEHOLDER} vaultId={vaultId || VAULT_PLACEHOLDER} baseUrl={publicUrl} />
    </div>
  );
}
