"use client";
import { useRouter } from "next/navigation";
import { type ReactNode, useEffect, useMemo, useState } from "react";
import { Button, buttonClass } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { Checkbox } from "@/components/ui/field";
import { Dialog } from "@/components/ui/dialog";
import { Alert, Badge, Card } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import type { Action } from "@/components/vaults/types";
import type { CmekJobResponse } from "@/lib/contract/cmek";
import type { VaultResponse } from "@/lib/contract/vaults";
import { cmekKeyFileText, encodeCmekKey, generateCmekKeyBytes, importCmekKey } from "@/lib/crypto/cmek";
import type { CmekJobInput, DisableCmekInput, RotateCmekInput } from "./action-schemas";
import { useLoadedKey } from "./cmek-vault";
import { EncryptExisting, type EncryptExistingActions } from "./encrypt-existing";
import { humanProblem, JobProgress } from "./job-progress";
import { RunningJob } from "./running-job";
import { CmekKeyInput, CurrentKey, shortFingerprint } from "./key-input";
import { type LoadedCmekKey, setLoadedKey } from "./key-store";

export type CmekActions = EncryptExistingActions & {
  rotate: Action<RotateCmekInput, CmekJobResponse>;
  disable: Action<DisableCmekInput, CmekJobResponse>;
  job: Action<CmekJobInput, CmekJobResponse>;
};

/** A name for the downloaded key file: the vault's name (file-safe) and the key id. */
function keyFileName(vaultName: string, fingerprint: string): string {
  const safe = vaultName.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "vault";
  return `talon-${safe}-${fingerprint.slice(0, 16)}.key`;
}

/**
 * A key generated here, in the browser (WebCrypto's CSPRNG, 32 bytes), offered as a file download and
 * a copy, with its SHA-256 fingerprint; it is handed on only once the user confirms they saved it.
 */
function NewKey({ vaultName, onChange }: { vaultName: string; onChange: (k: LoadedCmekKey | null) => void }) {
  const [generated, setGenerated] = useState<LoadedCmekKey | null>(null);
  const [saved, setSaved] = useState(false);
  const text = useMemo(() => (generated ? cmekKeyFileText(generated.raw) : ""), [generated]);
  const href = useMemo(() => (text ? URL.createObjectURL(new Blob([text], { type: "application/octet-stream" })) : null), [text]);
  useEffect(() => () => void (href && URL.revokeObjectURL(href)), [href]);

  async function generate() {
    const raw = generateCmekKeyBytes();
    setGenerated({ key: await importCmekKey(raw), raw });
    setSaved(false);
    onChange(null);
  }

  if (!generated) {
    return (
      <div className="flex flex-col gap-2">
        <p className="text-sm text-zinc-300">Your browser generates a 256-bit AES key. Talon receives only its SHA-256 fingerprint, never the key.</p>
        <div>
          <Button onClick={() => void generate()}>Generate a key in this browser</Button>
        </div>
      </div>
    );
  }
  return (
    <div className="flex flex-col gap-3">
      <div className="flex flex-col gap-1">
        <p className="text-sm font-medium text-zinc-200">Key fingerprint (SHA-256)</p>
        <code data-testid="new-key-fingerprint" className="break-all rounded-md bg-zinc-950 px-2 py-1.5 font-mono text-xs text-zinc-100">
          {generated.key.fingerprint}
        </code>
      </div>
      <div className="flex flex-wrap gap-2">
        {href && (
          <a href={href} download={keyFileName(vaultName, generated.key.fingerprint)} className={buttonClass("secondary")}>
            Download key file
          </a>
        )}
        <CopyButton value={encodeCmekKey(generated.raw)} label="Copy key" />
      </div>
      <Alert tone="amber" title="Save this key now">
        Talon cannot recover it. Without this key nobody, Talon included, can read the values it encrypts.
      </Alert>
      <Checkbox
        label="I saved this key somewhere safe"
        checked={saved}
        onChange={(e) => {
          setSaved(e.target.checked);
          onChange(e.target.checked ? generated : null);
        }}
      />
    </div>
  );
}

function EnableDialog({ vault, actions, hasSecrets, open, onClose }: { vault: VaultResponse; actions: CmekActions; hasSecrets: boolean; open: boolean; onClose: () => void }) {
  const router = useRouter();
  const [key, setKey] = useState<LoadedCmekKey | null>(null);
  const mutation = useAction(actions.enable, {
    onSuccess: () => {
      if (key) setLoadedKey(vault.id, key);
      onClose();
    },
  });
  return (
    <Dialog open={open} onClose={onClose} title="Use my own key">
      <p className="text-sm text-zinc-300">
        Values in this vault will be encrypted in your browser (and by the SDK, CLI and MCP server when given the key) before they are sent. Talon seals them again under its HSM key. Agents without
        your key get only the encrypted blob.
      </p>
      <NewKey vaultName={vault.name} onChange={setKey} />
      {hasSecrets ? (
        <EncryptExisting
          vault={vault}
          actions={actions}
          newKey={key}
          onCancel={onClose}
          onEnabled={() => {
            if (key) setLoadedKey(vault.id, key);
            onClose();
            router.refresh();
          }}
        />
      ) : (
        <>
          {mutation.error && <Alert title="Could not turn on your own key">{humanProblem(mutation.error.problem)}</Alert>}
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={onClose}>
              Cancel
            </Button>
            <Button disabled={!key} pending={mutation.isPending} onClick={() => key && mutation.mutate({ vault_id: vault.id, fingerprint: key.key.fingerprint })}>
              Turn on customer-managed key
            </Button>
          </div>
        </>
      )}
    </Dialog>
  );
}

/**
 * A dialog that starts a server-side customer-key job (rotate, turn off) with the vault's current key
 * (the tab's loaded one, or a file), then shows its progress until it stops; the page is refreshed on
 * close once the job has finished. `fields` adds inputs, `inputOf` builds the start action's input
 * (null while something is missing), `onCompleted` runs when the job completes.
 */
function KeyJobDialog<I>({
  vault,
  fingerprint,
  open,
  onClose,
  title,
  intro,
  errorTitle,
  startLabel,
  danger,
  start: startAction,
  poll,
  fields,
  inputOf,
  onCompleted,
  completed,
}: {
  vault: VaultResponse;
  fingerprint: string;
  open: boolean;
  onClose: () => void;
  title: string;
  intro: ReactNode;
  errorTitle: string;
  startLabel: string;
  danger?: boolean;
  start: Action<I, CmekJobResponse>;
  poll: CmekActions["job"];
  fields?: ReactNode;
  inputOf: (old: LoadedCmekKey | null) => I | null;
  onCompleted: () => void;
  completed: (job: CmekJobResponse) => ReactNode;
}) {
  const router = useRouter();
  const loaded = useLoadedKey(vault.id, fingerprint);
  const [current, setCurrent] = useState<LoadedCmekKey | null>(null);
  const old = loaded ?? current;
  const [job, setJob] = useState<CmekJobResponse | null>(null);
  const [finished, setFinished] = useState<CmekJobResponse | null>(null);
  const start = useAction(startAction, { refresh: false, onSuccess: setJob });
  const input = inputOf(old);
  function close() {
    onClose();
    if (finished) router.refresh();
  }
  return (
    <Dialog open={open} onClose={close} title={title}>
      {!job ? (
        <>
          <p className="text-sm text-zinc-300">{intro}</p>
          <CurrentKey vaultId={vault.id} fingerprint={fingerprint} value={old} onChange={setCurrent} />
          {fields}
          {start.error && <Alert title={errorTitle}>{humanProblem(start.error.problem)}</Alert>}
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={close}>
              Cancel
            </Button>
            <Button variant={danger ? "danger" : undefined} disabled={!input} pending={start.isPending} onClick={() => input && start.mutate(input)}>
              {startLabel}
            </Button>
          </div>
        </>
      ) : (
        <>
          <JobProgress
            vaultId={vault.id}
            job={job}
            poll={poll}
            onDone={(j) => {
              setFinished(j);
              if (j.status === "completed") onCompleted();
            }}
          />
          {finished?.status === "completed" && completed(finished)}
          <div className="flex justify-end">
            <Button variant="secondary" onClick={close} disabled={!finished}>
              Close
            </Button>
          </div>
        </>
      )}
    </Dialog>
  );
}

function RotateDialog({ vault, fingerprint, actions, open, onClose }: { vault: VaultResponse; fingerprint: string; actions: CmekActions; open: boolean; onClose: () => void }) {
  const [next, setNext] = useState<LoadedCmekKey | null>(null);
  return (
    <KeyJobDialog
      vault={vault}
      fingerprint={fingerprint}
      open={open}
      onClose={onClose}
      title="Rotate the customer key"
      intro="Talon re-encrypts every version in this vault, 100 at a time, from the current key to a new one. Both keys reach the server only for the job's life, in memory, and are never stored."
      errorTitle="Could not start the rotation"
      startLabel="Start rotation"
      start={actions.rotate}
      poll={actions.job}
      fields={
        <>
          <h3 className="text-sm font-semibold text-zinc-100">New key</h3>
          <NewKey vaultName={vault.name} onChange={setNext} />
        </>
      }
      inputOf={(old) => (old && next ? { vault_id: vault.id, new_fingerprint: next.key.fingerprint, old_key: encodeCmekKey(old.raw), new_key: encodeCmekKey(next.raw) } : null)}
      onCompleted={() => next && setLoadedKey(vault.id, next)}
      completed={(j) => (
        <Alert tone="green" title="Rotated">
          Every version is now under the new key (fingerprint {shortFingerprint(j.new_fingerprint ?? "")}). The old key no longer opens anything here.
        </Alert>
      )}
    />
  );
}

function DisableDialog({ vault, fingerprint, actions, open, onClose }: { vault: VaultResponse; fingerprint: string; actions: CmekActions; open: boolean; onClose: () => void }) {
  return (
    <KeyJobDialog
      vault={vault}
      fingerprint={fingerprint}
      open={open}
      onClose={onClose}
      title="Stop using my own key"
      intro="Talon opens every version with your key and stores it back under its HSM encryption only. The key reaches the server only for the job's life, in memory. Agents then read plain values again."
      errorTitle="Could not turn off your own key"
      startLabel="Turn off customer-managed key"
      danger
      start={actions.disable}
      poll={actions.job}
      inputOf={(old) => (old ? { vault_id: vault.id, key: encodeCmekKey(old.raw) } : null)}
      onCompleted={() => setLoadedKey(vault.id, null)}
      completed={() => (
        <Alert tone="green" title="Customer key turned off">
          Every version is stored without your key now.
        </Alert>
      )}
    />
  );
}

/**
 * The vault's customer-managed key (docs/cmek.md): turn it on with a key generated in this browser,
 * see its fingerprint, load or forget the key for this tab, rotate it, turn it off. Only vault
 * managers can change it; the service says so to anyone else.
 */
export function CmekCard({ vault, secretCount, actions }: { vault: VaultResponse; secretCount: number; actions: CmekActions }) {
  const fingerprint = vault.cmek_enabled ? vault.cmek_fingerprint : null;
  const loaded = useLoadedKey(vault.id, fingerprint);
  const [dialog, setDialog] = useState<"enable" | "rotate" | "disable" | "load" | null>(null);
  const close = () => setDialog(null);

  if (!fingerprint) {
    return (
      <Card
        title="Customer-managed key"
        description="Encrypt this vault's values in your browser with a key only you hold. Talon stores only its fingerprint."
        actions={
          <Button variant="secondary" onClick={() => setDialog("enable")}>
            Use my own key
          </Button>
        }
      >
        {secretCount === 0 ? (
          <p className="text-sm text-zinc-400">Off. Values are encrypted by Talon&apos;s HSM key only.</p>
        ) : (
          <p className="text-sm text-zinc-400" data-testid="cmek-existing">
            Off. This vault holds {secretCount} secret{secretCount === 1 ? "" : "s"}. Using your own key, your browser reads and encrypts every stored version before Talon swaps them in; Talon never
            sees the key.
          </p>
        )}
        {dialog === "enable" && <EnableDialog vault={vault} actions={actions} hasSecrets={secretCount > 0} open onClose={close} />}
      </Card>
    );
  }

  return (
    <Card
      title="Customer-managed key"
      description="Values here are encrypted in the client with your key before they reach Talon; agents without the key get only the encrypted blob."
      actions={
        <div className="flex flex-wrap gap-2">
          <Button variant="secondary" onClick={() => setDialog("rotate")}>
            Rotate key
          </Button>
          <Button variant="ghost" onClick={() => setDialog("disable")}>
            Turn off
          </Button>
        </div>
      }
    >
      <div className="flex flex-col gap-3">
        {vault.cmek_job_id && <RunningJob key={vault.cmek_job_id} vaultId={vault.id} jobId={vault.cmek_job_id} actions={actions} />}
        <div className="flex flex-col gap-1">
          <p className="flex items-center gap-2 text-sm font-medium text-zinc-200">
            Key fingerprint (SHA-256) <Badge tone="blue">CMEK</Badge>
          </p>
          <code data-testid="cmek-fingerprint" className="break-all rounded-md bg-zinc-950 px-2 py-1.5 font-mono text-xs text-zinc-100">
            {fingerprint}
          </code>
        </div>
        <div className="flex flex-wrap items-center gap-2">
          {loaded ? (
            <>
              <p className="text-sm text-green-400" data-testid="cmek-key-state">
                Key loaded in this tab only.
              </p>
              <Button variant="ghost" onClick={() => setLoadedKey(vault.id, null)}>
                Forget key
              </Button>
            </>
          ) : (
            <>
              <p className="text-sm text-zinc-400" data-testid="cmek-key-state">
                No key loaded. Revealing or storing a value asks for the key file.
              </p>
              <Button variant="secondary" onClick={() => setDialog("load")}>
                Load key
              </Button>
            </>
          )}
        </div>
      </div>
      <Dialog open={dialog === "load"} onClose={close} title="Load this vault's key">
        <CmekKeyInput
          fingerprint={fingerprint}
          label="Key file"
          onKey={(k) => {
            setLoadedKey(vault.id, k);
            close();
          }}
        />
      </Dialog>
      <RotateDialog key={dialog === "rotate" ? "rotate-open" : "rotate"} vault={vault} fingerprint={fingerprint} actions={actions} open={dialog === "rotate"} onClose={close} />
      <DisableDialog key={dialog === "disable" ? "disable-open" : "disable"} vault={vault} fingerprint={fingerprint} actions={actions} open={dialog === "disable"} onClose={close} />
    </Card>
  );
}
