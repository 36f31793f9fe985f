"use client";
import { useId, useState } from "react";
import { Button } from "@/components/ui/button";
import { TextAreaField } from "@/components/ui/field";
import { CmekError, decodeCmekKey, importCmekKey } from "@/lib/crypto/cmek";
import { type LoadedCmekKey, setLoadedKey } from "./key-store";

/** The longest key file we read: a key file is 45 bytes; anything far bigger is not one. */
const MAX_KEY_FILE_BYTES = 4096;

/** The first and last characters of a fingerprint, enough to tell two keys apart at a glance. */
export const shortFingerprint = (f: string) => `${f.slice(0, 8)}…${f.slice(-8)}`;

/**
 * Reads a customer key from its file (or pasted text) and checks it is the one `fingerprint` names
 * before anything uses it: a wrong key is refused here, with both fingerprints, never sent anywhere.
 */
export function CmekKeyInput({ fingerprint, label, onKey }: { fingerprint: string; label: string; onKey: (k: LoadedCmekKey) => void }) {
  const fileId = useId();
  const [pasted, setPasted] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function use(text: string, what: string) {
    setError(null);
    setBusy(true);
    try {
      const raw = decodeCmekKey(text, what);
      const key = await importCmekKey(raw);
      if (key.fingerprint !== fingerprint) {
        raw.fill(0);
        setError(`This is not the right key: its fingerprint is ${shortFingerprint(key.fingerprint)}, the vault's key is ${shortFingerprint(fingerprint)}. Choose the key file you saved for this vault.`);
        return;
      }
      setPasted("");
      onKey({ key, raw });
    } catch (e) {
      setError(e instanceof CmekError ? `${e.message.charAt(0).toUpperCase()}${e.message.slice(1)}.` : "The key could not be read.");
    } finally {
      setBusy(false);
    }
  }

  async function fromFile(file: File | undefined) {
    if (!file) return;
    if (file.size > MAX_KEY_FILE_BYTES) {
      setError("That file is too big to be a Talon key file (a key file holds one line of 44 characters).");
      return;
    }
    await use(await file.text(), "the key file");
  }

  return (
    <div className="flex flex-col gap-3" data-testid="cmek-key-input">
      <div className="flex flex-col gap-1.5">
        <label htmlFor={fileId} className="text-sm font-medium text-zinc-200">
          {label}
        </label>
        <input
          id={fileId}
          type="file"
          accept=".key,.txt,text/plain"
          disabled={busy}
          onChange={(e) => {
            void fromFile(e.target.files?.[0]);
            e.target.value = "";
          }}
          className="text-sm text-zinc-300 file:mr-3 file:rounded-lg file:border file:border-zinc-700 file:bg-zinc-900 file:px-3 file:py-2 file:text-sm file:font-semibold file:text-zinc-100"
        />
      </div>
      <TextAreaField
        label="Or paste the key"
        name="cmek-key"
        rows={2}
        value={pasted}
        autoComplete="off"
        spellCheck={false}
        onChange={(e) => setPasted(e.target.value)}
        hint="The 44 characters of base64 in the key file. It stays in this browser tab; Talon never receives it."
      />
      <div className="flex justify-end">
        <Button variant="secondary" pending={busy} disabled={pasted.trim() === ""} onClick={() => void use(pasted, "the pasted key")}>
          Use pasted key
        </Button>
      </div>
      {error && (
        <p role="alert" className="text-sm text-red-400" data-testid="cmek-key-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** The vault's current key: the one loaded in this tab, or a key file read here. */
export function CurrentKey({ vaultId, fingerprint, value, onChange }: { vaultId: string; fingerprint: string; value: LoadedCmekKey | null; onChange: (k: LoadedCmekKey) => void }) {
  if (value) {
    return (
      <p className="text-sm text-zinc-300">
        Current key: loaded in this tab (fingerprint <span className="font-mono">{shortFingerprint(fingerprint)}</span>).
      </p>
    );
  }
  return (
    <CmekKeyInput
      fingerprint={fingerprint}
      label="Current key file"
      onKey={(k) => {
        setLoadedKey(vaultId, k);
        onChange(k);
      }}
    />
  );
}
