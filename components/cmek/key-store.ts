import type { CmekKey } from "@/lib/crypto/cmek";

/**
 * The customer keys this tab holds, per vault: a module variable of the browser bundle, so a key
 * lives exactly as long as the tab (and survives moving between dashboard pages), and is never
 * written to localStorage, sessionStorage, a cookie or the server. The CryptoKey is non-extractable;
 * the raw bytes are kept only because rotating or turning CMEK off sends the current key to the job.
 */
export type LoadedCmekKey = { key: CmekKey; raw: Uint8Array };

const keys = new Map<string, LoadedCmekKey>();
const listeners = new Set<() => void>();

export function loadedKey(vaultId: string, fingerprint: string | null): LoadedCmekKey | null {
  const k = keys.get(vaultId);
  // A key for another fingerprint (the vault was rotated since) is not this vault's key any more.
  return k && fingerprint && k.key.fingerprint === fingerprint ? k : null;
}

export function setLoadedKey(vaultId: string, k: LoadedCmekKey | null): void {
  const old = keys.get(vaultId);
  if (old && old !== k) old.raw.fill(0);
  if (k) keys.set(vaultId, k);
  else keys.delete(vaultId);
  for (const l of listeners) l();
}

export function subscribeKeys(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** A version number that changes whenever a key is loaded or forgotten (for useSyncExternalStore). */
let version = 0;
listeners.add(() => void version++);
export const keysVersion = () => version;
