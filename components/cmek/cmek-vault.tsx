"use client";
import { createContext, type ReactNode, useCallback, useContext, useMemo, useRef, useState, useSyncExternalStore } from "react";
import type { Action, RevealedSecret, SecretActions } from "@/components/vaults/types";
import type { SecretRefInput, SecretVersionRefInput } from "@/components/vaults/action-schemas";
import { Dialog } from "@/components/ui/dialog";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { CmekError, decryptCmekValue, encryptCmekValue } from "@/lib/crypto/cmek";
import { CmekKeyInput } from "./key-input";
import { keysVersion, loadedKey, type LoadedCmekKey, setLoadedKey, subscribeKeys } from "./key-store";

/** A read as the CMEK actions return it: the stored value and whether it is a customer-key blob. */
export type CmekRevealed = RevealedSecret & { cmek_encrypted: boolean };

export type CmekReadActions = {
  reveal: Action<SecretRefInput, CmekRevealed>;
  revealVersion: Action<SecretVersionRefInput, CmekRevealed>;
};

type Ctx = {
  vaultId: string;
  fingerprint: string;
  reads: CmekReadActions;
  /** The vault's key: the one loaded in this tab, or asked for now (null when the user cancels). */
  requireKey: (why: string) => Promise<LoadedCmekKey | null>;
};

const CmekVaultContext = createContext<Ctx | null>(null);

/** The key this tab holds for the vault, re-read whenever one is loaded or forgotten. */
export function useLoadedKey(vaultId: string, fingerprint: string | null): LoadedCmekKey | null {
  useSyncExternalStore(subscribeKeys, keysVersion, () => 0);
  return loadedKey(vaultId, fingerprint);
}

const fail = (title: string, detail: string): ActionResult<never> => ({ ok: false, problem: { status: 0, title, detail } });
const NO_KEY = fail("Customer key needed", "This vault's values are encrypted with your own key. Load its key file to reveal or store a value; it stays in this browser tab only.");

/**
 * Wraps a CMEK vault's page: values are decrypted after a read and encrypted before a write, here in
 * the browser, with the key the user loads (asked for on the first reveal or save, then kept in this
 * tab's memory). Outside a CMEK vault nothing changes.
 */
export function CmekVaultProvider({ vaultId, fingerprint, reads, children }: { vaultId: string; fingerprint: string | null; reads: CmekReadActions; children: ReactNode }) {
  const [asking, setAsking] = useState<string | null>(null);
  const pending = useRef<((k: LoadedCmekKey | null) => void)[]>([]);
  const settle = useCallback((k: LoadedCmekKey | null) => {
    const waiting = pending.current;
    pending.current = [];
    setAsking(null);
    for (const resolve of waiting) resolve(k);
  }, []);
  const requireKey = useCallback(
    (why: string) => {
      const have = loadedKey(vaultId, fingerprint);
      if (have) return Promise.resolve(have);
      setAsking(why);
      return new Promise<LoadedCmekKey | null>((resolve) => pending.current.push(resolve));
    },
    [vaultId, fingerprint],
  );
  const value = useMemo(() => (fingerprint ? { vaultId, fingerprint, reads, requireKey } : null), [vaultId, fingerprint, reads, requireKey]);
  return (
    <CmekVaultContext.Provider value={value}>
      {children}
      {fingerprint && (
        <Dialog open={asking !== null} onClose={() => settle(null)} title="Load this vault's key">
          <p className="text-sm text-zinc-300">{asking}</p>
          <CmekKeyInput
            fingerprint={fingerprint}
            label="Key file"
            onKey={(k) => {
              setLoadedKey(vaultId, k);
              settle(k);
            }}
          />
        </Dialog>
      )}
    </CmekVaultContext.Provider>
  );
}

/** The message for a value the key does not open. */
function openFailure(e: unknown, path: string): ActionResult<never> {
  const why = e instanceof CmekError ? e.message : "it could not be decrypted";
  return fail("Wrong key or damaged value", `Your key did not open ${path}: ${why}.`);
}

async function opened<I extends SecretRefInput>(ctx: Ctx, input: I, read: (input: I) => Promise<ActionResult<CmekRevealed>>): Promise<ActionResult<RevealedSecret>> {
  const k = await ctx.requireKey(`${input.path} is encrypted with this vault's own key. Load the key file to decrypt it here, in your browser.`);
  if (!k) return NO_KEY;
  const r = await read(input);
  if (!r.ok) return r;
  const { cmek_encrypted, ...data } = r.data;
  if (!cmek_encrypted) return { ok: true, data };
  try {
    return { ok: true, data: { ...data, value: await decryptCmekValue(k.key, { vaultId: ctx.vaultId, path: input.path }, data.value) } };
  } catch (e) {
    return openFailure(e, input.path);
  }
}

/** Reveal for a secret: in a CMEK vault, the read through the CMEK action and decrypted with the tab's key. */
export function useCmekReveal(reveal: SecretActions["reveal"]): SecretActions["reveal"] {
  const ctx = useContext(CmekVaultContext);
  return useMemo(() => (ctx ? (input: SecretRefInput) => opened(ctx, input, ctx.reads.reveal) : reveal), [ctx, reveal]);
}

/** An old version's value, likewise. */
export function useCmekRevealVersion(revealVersion: SecretActions["revealVersion"]): SecretActions["revealVersion"] {
  const ctx = useContext(CmekVaultContext);
  return useMemo(() => (ctx ? (input: SecretVersionRefInput) => opened(ctx, input, ctx.reads.revealVersion) : revealVersion), [ctx, revealVersion]);
}

/** Save for a secret: in a CMEK vault the value is encrypted here, bound to the vault and path, before it is sent. */
export function useCmekPut(put: SecretActions["put"]): SecretActions["put"] {
  const ctx = useContext(CmekVaultContext);
  return useMemo(() => {
    if (!ctx) return put;
    return async (input) => {
      const k = await ctx.requireKey("This vault stores only values encrypted with its own key. Load the key file to encrypt this value here, in your browser, before it is sent.");
      if (!k) return NO_KEY;
      const value = await encryptCmekValue(k.key, { vaultId: ctx.vaultId, path: input.path }, input.body.value);
      return put({ ...input, body: { ...input.body, value } });
    };
  }, [ctx, put]);
}
