"use client";
import { useState } from "react";
import type { ActionResult } from "@/lib/dashboard/action-result";
import type { SigningKeyResponse } from "@/lib/contract/transactions";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { SelectField, TextField } from "@/components/ui/field";
import { Alert, Card, formatDate } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";

type CreateKey = (input: { agent_id: string; body: { chain: string } }) => Promise<ActionResult<SigningKeyResponse>>;
type DestroyKey = (input: { agent_id: string; key_id: string }) => Promise<ActionResult<null>>;

/**
 * HSM signing keys: generated inside the token, only their addresses ever shown. Destroying one is
 * final (funds at its address become unspendable through Talon), so it asks for the address typed out.
 */
export function SigningKeyPanel({
  agentId,
  keys,
  chains,
  hsmAvailable,
  create,
  destroy,
}: {
  agentId: string;
  keys: SigningKeyResponse[];
  chains: { name: string; display_name: string }[];
  hsmAvailable: boolean;
  create: CreateKey;
  destroy: DestroyKey;
}) {
  const [chain, setChain] = useState(chains[0]?.name ?? "");
  const creating = useAction(create);
  return (
    <Card
      title="HSM signing keys"
      description="secp256k1 keys generated inside the HSM for this agent. The private key never leaves the token; use signing_key_path hsm:<address>, or leave it out to use the newest key for the chain."
    >
      <div className="flex flex-col gap-4">
        {!hsmAvailable && <Alert tone="amber">This server uses the local software keystore: HSM signing keys need TALON_KEYSTORE=pkcs11.</Alert>}
        {keys.map((k) => (
          <KeyRow key={k.id} agentId={agentId} signingKey={k} destroy={destroy} />
        ))}
        <form
          className="flex flex-wrap items-end gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            creating.mutate({ agent_id: agentId, body: { chain } });
          }}
        >
          <SelectField label="Chain" value={chain} onChange={(e) => setChain(e.target.value)} options={chains.map((c) => ({ value: c.name, label: c.display_name }))} />
          <Button type="submit" pending={creating.isPending} disabled={!hsmAvailable || !chain}>
            Generate key in HSM
          </Button>
        </form>
        {creating.error && <Alert>{creating.error.problem.detail}</Alert>}
      </div>
    </Card>
  );
}

function KeyRow({ agentId, signingKey, destroy }: { agentId: string; signingKey: SigningKeyResponse; destroy: DestroyKey }) {
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState("");
  const destroying = useAction(destroy);
  return (
    <div data-testid="signing-key" className="flex flex-col gap-2 rounded-lg border border-zinc-800 p-3">
      <div className="flex flex-wrap items-center gap-3">
        <code className="font-mono text-sm text-zinc-100">{signingKey.address}</code>
        <CopyButton value={signingKey.address} label="Copy address" variant="ghost" />
        <span className="text-xs text-zinc-400">
          {signingKey.chain} · {formatDate(signingKey.created_at)}
        </span>
        {!confirming && (
          <Button variant="ghost" onClick={() => setConfirming(true)}>
            Destroy…
          </Button>
        )}
      </div>
      {confirming && (
        <div className="flex flex-wrap items-end gap-3">
          <TextField label="Type the address to destroy this key for good" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
          <Button
            variant="danger"
            pending={destroying.isPending}
            disabled={typed.trim().toLowerCase() !== signingKey.address.toLowerCase()}
            onClick={() => destroying.mutate({ agent_id: agentId, key_id: signingKey.id })}
          >
            Destroy key
          </Button>
          <Button variant="ghost" onClick={() => (setConfirming(false), setTyped(""))}>
            Cancel
          </Button>
        </div>
      )}
      {destroying.error && <Alert>{destroying.error.problem.detail}</Alert>}
    </div>
  );
}
