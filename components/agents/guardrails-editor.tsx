"use client";
import { type FormEvent, useState } from "react";
import { type AgentResponse, ZUpdateAgentRequest } from "@/lib/contract/agents";
import { Button } from "@/components/ui/button";
import { Checkbox, TextAreaField, TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert, Badge, Card } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import type { VaultOption } from "./agent-key-panel";
import type { UpdateAgent } from "./actions";
import { listFieldMessage, nestedFieldMessage } from "./form-values";
import { guardrailChanges, guardrailsForm, hasTransactionGuardrails, revokesTokens } from "./guardrails";
import { VaultBindingField } from "./vault-binding-field";

export type ChainOption = { name: string; display_name: string; is_testnet: boolean; is_enabled: boolean };

/**
 * Crypto proxy, transaction limits, token lifetime and vault binding. Validated with the API's update
 * schema (addresses 0x + 40 hex, ETH amounts > 0 with ≤ 18 decimals, TTL 60–86400 s) before sending.
 */
export function GuardrailsEditor({ agent, update, vaults, chains }: { agent: AgentResponse; update: UpdateAgent; vaults: VaultOption[]; chains: ChainOption[] }) {
  const [f, setF] = useState(() => guardrailsForm(agent));
  const [notice, setNotice] = useState<string | null>(null);
  const v = useSchemaValidation(ZUpdateAgentRequest);
  const mutation = useAction(update, {
    onSuccess: (saved, input) => {
      setF(guardrailsForm(saved));
      setNotice(revokesTokens(input.body) ? "Guardrails saved. The agent's existing tokens were revoked; it must exchange its key again." : "Guardrails saved.");
    },
  });
  const set = (k: "allowlist" | "maxValue" | "dailyLimit" | "ttl") => (e: { target: { value: string } }) => setF((s) => ({ ...s, [k]: e.target.value }));
  const err = (name: string) => nestedFieldMessage(name, v.errors, mutation.error);
  // Transaction limits mean something only where the server can sign for a chain; an agent that
  // already has some keeps them on show so nothing set is hidden.
  const transactions = chains.some((c) => c.is_enabled) || hasTransactionGuardrails(agent);
  const toggleChain = (name: string, on: boolean) => setF((s) => ({ ...s, chains: on ? [...s.chains, name] : s.chains.filter((c) => c !== name) }));

  function submit(e: FormEvent) {
    e.preventDefault();
    setNotice(null);
    const body = guardrailChanges(agent, f);
    if (Object.keys(body).length === 0) {
      v.clear();
      setNotice("Nothing changed.");
      return;
    }
    if (v.validate(body)) mutation.mutate({ agent_id: agent.id, body });
  }

  return (
    <Card title="Guardrails" description="Limits the server enforces whatever the agent asks for.">
      <form onSubmit={submit} noValidate className="flex flex-col gap-5">
        {mutation.error && <Alert>{mutation.error.problem.detail}</Alert>}
        {notice && !mutation.error && <Alert tone="green">{notice}</Alert>}
        {transactions ? (
          <>
          <Checkbox
            label="Crypto proxy enabled"
            hint="The agent signs transactions through Talon and can never read raw private or SSH keys. Changing it revokes the agent's tokens."
            checked={f.crypto}
            onChange={(e) => setF((s) => ({ ...s, crypto: e.target.checked }))}
          />
          <TextAreaField
            label="Transaction destination allowlist"
            value={f.allowlist}
            onChange={set("allowlist")}
            rows={3}
            placeholder="0x52908400098527886E0F7030069857D2E4169EE7"
            hint="One EVM address (0x + 40 hex digits) per line. Empty: any destination."
            error={listFieldMessage("tx_to_allowlist", v.errors, mutation.error)}
          />
          <div className="grid gap-4 sm:grid-cols-2">
            <TextField
              label="Max value per transaction (ETH)"
              inputMode="decimal"
              value={f.maxValue}
              onChange={set("maxValue")}
              placeholder="0.5"
              hint="Greater than 0, up to 18 decimals. Empty: no limit."
              error={err("tx_max_value_eth")}
            />
            <TextField
              label="Daily limit (ETH)"
              inputMode="decimal"
              value={f.dailyLimit}
              onChange={set("dailyLimit")}
              placeholder="2"
              hint="Total over 24 hours. Empty: no limit."
              error={err("tx_daily_limit_eth")}
            />
          </div>
          <fieldset className="flex flex-col gap-2">
            <legend className="mb-1.5 text-sm font-medium text-zinc-200">Allowed chains</legend>
            <div className="grid gap-2 sm:grid-cols-2">
              {chains.map((c) => (
                <div key={c.name} className="flex items-center gap-2">
                  <Checkbox label={c.display_name} checked={f.chains.includes(c.name)} onChange={(e) => toggleChain(c.name, e.target.checked)} />
                  {c.is_testnet && <Badge tone="blue">testnet</Badge>}
                  {!c.is_enabled && <Badge>no RPC</Badge>}
                </div>
              ))}
            </div>
            <p className="text-xs text-zinc-500">None ticked: any chain the server supports.</p>
            {listFieldMessage("tx_allowed_chains", v.errors, mutation.error) && (
              <p role="alert" className="text-xs text-red-400">
                {listFieldMessage("tx_allowed_chains", v.errors, mutation.error)}
              </p>
            )}
          </fieldset>
          </>
        ) : (
          <p className="text-sm text-zinc-400">Transaction guardrails appear here once the server has an RPC endpoint for a chain (TALON_CHAIN_RPC_URLS).</p>
        )}
        <TextField
          label="Token TTL (seconds)"
          type="number"
          inputMode="numeric"
          min={60}
          max={86400}
          value={f.ttl}
          onChange={set("ttl")}
          hint="Lifetime of the agent's JWTs, 60–86400. Empty: 3600."
          error={err("token_ttl_seconds")}
        />
        <VaultBindingField vaults={vaults} value={f.vaultIds} onChange={(ids) => setF((s) => ({ ...s, vaultIds: ids }))} error={listFieldMessage("vault_ids", v.errors, mutation.error)} />
        <p className="text-xs text-zinc-500">Changing the vault binding revokes the agent&apos;s tokens.</p>
        <div>
          <Button type="submit" pending={mutation.isPending}>
            Save guardrails
          </Button>
        </div>
      </form>
    </Card>
  );
}
