import { CmekError, type CmekKey, decryptCmekValue, decodeCmekKey, encryptCmekValue, importCmekKey } from "../crypto/cmek";
import type { SdkResponse } from "./client";

/**
 * Client-side customer-managed keys for the SDK (docs/cmek.md): values of a CMEK vault are encrypted
 * here before they are sent and decrypted here after they arrive; the server only ever sees blobs.
 * A key is given as an imported `CmekKey`, its 32 raw bytes, or the key file's text (base64).
 */
export type CmekKeyInput = CmekKey | Uint8Array | string;

const imported = new WeakMap<Uint8Array, Promise<CmekKey>>();
const fromText = new Map<string, Promise<CmekKey>>();

export function resolveCmekKey(input: CmekKeyInput): Promise<CmekKey> {
  if (typeof input === "string") {
    let p = fromText.get(input);
    if (!p) {
      p = importCmekKey(decodeCmekKey(input, "cmekKey"));
      // Bounded: a long-lived client given many different keys does not grow without end.
      if (fromText.size > 16) fromText.clear();
      fromText.set(input, p);
    }
    return p;
  }
  if (input instanceof Uint8Array) {
    let p = imported.get(input);
    if (!p) imported.set(input, (p = importCmekKey(input)));
    return p;
  }
  return Promise.resolve(input);
}

export function cmekFailure<T>(e: unknown, status = 0, requestId: string | null = null): SdkResponse<T> {
  if (!(e instanceof CmekError)) throw e;
  return { data: null, error: { type: "cmek_error", message: "Customer-managed key", detail: e.message }, meta: { status, requestId } };
}

/** Encrypts `value` for `vaultId`/`path`; a CmekError (bad key) becomes an SdkResponse error. */
export async function sealForVault(input: CmekKeyInput, vaultId: string, path: string, value: string): Promise<string> {
  return encryptCmekValue(await resolveCmekKey(input), { vaultId, path }, value);
}

/** Opens a read's value when it is `cmek_encrypted`; plain values pass through. */
export async function openRead<T extends { value: string; cmek_encrypted: boolean }>(res: SdkResponse<T>, input: CmekKeyInput, vaultId: string, path: string): Promise<SdkResponse<T>> {
  if (res.error || !res.data.cmek_encrypted) return res;
  try {
    const value = await decryptCmekValue(await resolveCmekKey(input), { vaultId, path }, res.data.value);
    return { ...res, data: { ...res.data, value } };
  } catch (e) {
    return cmekFailure(e, res.meta.status, res.meta.requestId);
  }
}
