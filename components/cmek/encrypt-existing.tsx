"use client";
import { useEffect, useState } from "react";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/layout";
import type { Action } from "@/components/vaults/types";
import { CMEK_ENABLE_MAX_VERSIONS, type CmekEnablePlan, type CmekVersionBlob } from "@/lib/contract/cmek";
import type { VaultResponse } from "@/lib/contract/vaults";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { encryptCmekValue } from "@/lib/crypto/cmek";
import { CMEK_READ_BATCH, type CmekPlanInput, type CmekReadBatchInput, type EnableCmekInput } from "./action-schemas";
import { humanProblem, ProgressBar } from "./job-progress";
import type { LoadedCmekKey } from "./key-store";

export type EncryptExistingActions = {
  enable: Action<EnableCmekInput, VaultResponse>;
  plan: Action<CmekPlanInput, CmekEnablePlan>;
  read: Action<CmekReadBatchInput, { values: { path: string; version: number; value: string }[] }>;
};

/**
 * A server action's body is limited to 1 MB (Next.js's default): the blobs of every version go in one
 * request, so a vault whose encrypted values do not fit is refused here, before anything is read twice.
 */
const MAX_ENABLE_BODY_BYTES = 1_000_000;

type Phase = { step: "idle" } | { step: "working"; done: number; total: number } | { step: "sending" } | { step: "failed"; message: string };

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;

async function unwrap<T>(r: Promise<ActionResult<T>>): Promise<T> {
  const res = await r;
  if (!res.ok) throw new Error(humanProblem(res.problem));
  return res.data;
}

/**
 * Turning the customer key on in a vault that already holds values: this browser reads every version
 * a read can still return (ordinary reads: audited, counted against read limits), encrypts each one
 * with the new key, bound to the vault and its path, and sends all the blobs with the fingerprint in
 * one request. The server swaps them in all at once or changes nothing; the key never leaves the tab.
 */
export function EncryptExisting({
  vault,
  actions,
  newKey,
  onEnabled,
  onCancel,
}: {
  vault: VaultResponse;
  actions: EncryptExistingActions;
  newKey: LoadedCmekKey | null;
  onEnabled: () => void;
  onCancel: () => void;
}) {
  const [plan, setPlan] = useState<CmekEnablePlan | null>(null);
  const [planError, setPlanError] = useState<string | null>(null);
  const [phase, setPhase] = useState<Phase>({ step: "idle" });

  useEffect(() => {
    let live = true;
    void actions.plan({ vault_id: vault.id }).then((r) => {
      if (!live) return;
      if (r.ok) setPlan(r.data);
      else setPlanError(humanProblem(r.problem));
    });
    return () => {
      live = false;
    };
  }, [actions, vault.id]);

  async function run(key: LoadedCmekKey, versions: CmekEnablePlan["versions"]) {
    try {
      const blobs: CmekVersionBlob[] = [];
      setPhase({ step: "working", done: 0, total: versions.length });
      for (let i = 0; i < versions.length; i += CMEK_READ_BATCH) {
        const { values } = await unwrap(actions.read({ vault_id: vault.id, versions: versions.slice(i, i + CMEK_READ_BATCH) }));
        for (const v of values) blobs.push({ path: v.path, version: v.version, blob: await encryptCmekValue(key.key, { vaultId: vault.id, path: v.path }, v.value) });
        setPhase({ step: "working", done: blobs.length, total: versions.length });
      }
      const input: EnableCmekInput = { vault_id: vault.id, fingerprint: key.key.fingerprint, versions: blobs };
      const size = new TextEncoder().encode(JSON.stringify(input)).length;
      if (size > MAX_ENABLE_BODY_BYTES) {
        throw new Error(`The encrypted values come to ${(size / 1_000_000).toFixed(1)} MB, more than the 1 MB one request may carry. Use a new vault with your own key and copy the secrets into it.`);
      }
      setPhase({ step: "sending" });
      await unwrap(actions.enable(input));
      onEnabled();
    } catch (e) {
      setPhase({ step: "failed", message: e instanceof Error ? e.message : "The values could not be encrypted." });
    }
  }

  if (planError) return <Alert title="Could not list this vault's versions">{planError}</Alert>;
  if (!plan) return <p className="text-sm text-zinc-400">Counting this vault&apos;s versions…</p>;
  const busy = phase.step === "working" || phase.step === "sending";
  const tooMany = plan.versions.length > CMEK_ENABLE_MAX_VERSIONS;
  const pct = phase.step === "working" ? (phase.total === 0 ? 100 : Math.floor((phase.done / phase.total) * 100)) : phase.step === "sending" ? 100 : 0;
  return (
    <div className="flex flex-col gap-3" data-testid="cmek-encrypt-existing">
      <p className="text-sm text-zinc-300">
        This vault already holds {plural(plan.versions.length, "readable version")}. This browser reads each one (an ordinary, audited read that counts against any read limit), encrypts
        it with the new key and sends them all at once; Talon swaps them in together or changes nothing.
      </p>
      {plan.erased > 0 && (
        <p className="text-sm text-zinc-400" data-testid="cmek-erased">
          {plural(plan.erased, "version")} can never be read again (disabled, expired or out of reads). Their values will be erased rather than kept readable by Talon.
        </p>
      )}
      {plan.deleted_paths.length > 0 && (
        <Alert tone="amber" title="Restore deleted secrets first">
          {plan.deleted_paths.join(", ")} {plan.deleted_paths.length === 1 ? "was" : "were"} deleted but can still be restored, and a deleted secret cannot be read to encrypt it. Restore{" "}
          {plan.deleted_paths.length === 1 ? "it" : "them"} (Recently deleted), then come back; you can delete {plan.deleted_paths.length === 1 ? "it" : "them"} again afterwards.
        </Alert>
      )}
      {tooMany && (
        <Alert tone="amber" title="Too many versions for one request">
          One request can swap in at most {CMEK_ENABLE_MAX_VERSIONS} versions. Use a new vault with your own key and copy the secrets into it.
        </Alert>
      )}
      {phase.step !== "idle" && phase.step !== "failed" && (
        <div className="flex flex-col gap-1">
          <ProgressBar label="Encrypting existing versions" pct={pct} />
          <p className="text-xs text-zinc-400" aria-live="polite" data-testid="cmek-encrypt-status">
            {phase.step === "working" ? `${phase.done} of ${plural(phase.total, "version")} encrypted · ${pct} %` : "Sending the encrypted values…"}
          </p>
        </div>
      )}
      {phase.step === "failed" && <Alert title="Your own key was not turned on">{phase.message} Nothing was changed.</Alert>}
      <div className="flex justify-end gap-2">
        <Button variant="secondary" disabled={busy} onClick={onCancel}>
          Cancel
        </Button>
        <Button disabled={!newKey || busy || tooMany || plan.deleted_paths.length > 0} pending={busy} onClick={() => newKey && void run(newKey, plan.versions)}>
          Encrypt {plural(plan.versions.length, "existing version")} in this browser
        </Button>
      </div>
    </div>
  );
}
