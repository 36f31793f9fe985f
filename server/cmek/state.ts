import { cmekKeyIdOf, inspectCmekBlob } from "../../lib/crypto/cmek";
import type { HotTx } from "../db/hot";
import { ApiError } from "../http/errors";

/**
 * The write path's side of customer-managed keys. The server never holds the key, so it cannot tell a
 * good blob from a forged one; what it can check is the structure and the key id in the blob's header
 * (docs/cmek.md), which ties every stored value to the vault's current fingerprint.
 */
type CmekVault = { cmekEnabled: boolean; cmekFingerprint: string | null };

/**
 * The customer key fingerprint a value written to `vault` is under, or null in a plain vault.
 * In a CMEK vault anything but a well-formed blob under the vault's current key is a 400 on `value`.
 */
export function cmekFingerprintForWrite(vault: CmekVault, value: string): string | null {
  if (!vault.cmekEnabled || !vault.cmekFingerprint) return null;
  const info = inspectCmekBlob(value);
  const field = (message: string) => ApiError.badRequest(`value ${message}`, [{ field: "value", message }]);
  if (!info.ok) throw field(`${info.reason}: encrypt it with the vault's customer key first (docs/cmek.md)`);
  const want = cmekKeyIdOf(vault.cmekFingerprint);
  if (info.keyId !== want) throw field(`is under customer key id ${info.keyId}, but this vault's key is ${vault.cmekFingerprint} (key id ${want})`);
  return vault.cmekFingerprint;
}

/** Server-generated values would exist in the clear on the server: refused in a CMEK vault. */
export function assertServerMayGenerate(vault: CmekVault): void {
  if (vault.cmekEnabled) {
    throw ApiError.conflict("This vault uses a customer-managed key the server never holds, so it cannot generate a value here: generate it in your client, encrypt it with the key and PUT it");
  }
}

const CMEK_STATE = `SELECT "cmekEnabled" AS "cmekEnabled", "cmekFingerprint" AS "cmekFingerprint", "cmekRotationJobId" AS "cmekRotationJobId" FROM "Vault" WHERE id = $1`;
const CMEK_STATE_SHARED = `${CMEK_STATE} FOR SHARE`;

/** A vault's CMEK columns as a write transaction read them; null = no such vault. */
export type CmekState = { cmekEnabled: boolean; cmekFingerprint: string | null; cmekRotationJobId: string | null } | null;

/**
 * Inside a write's driver transaction (server/db/hot.ts): the vault's CMEK state now. On PostgreSQL
 * the vault row is share-locked until the write commits, so enabling CMEK, or finishing a rotation
 * (both UPDATE that row first), waits for the write and then sees its version; SQLite serialises
 * writers anyway. Either way the state cannot change before the transaction ends, so one read serves
 * every write of a batch.
 */
export async function readCmekState(tx: HotTx, vaultId: string): Promise<CmekState> {
  const r = (tx.dialect === "postgres" ? await tx.get("cmek.stateShared", CMEK_STATE_SHARED, [vaultId]) : await tx.get("cmek.state", CMEK_STATE, [vaultId])) as
    | CmekRow
    | undefined;
  return r ? cmekStateOf(r) : null;
}

/** A vault row's CMEK columns as CmekState (for a read that fetched them with others: the write batch's heads read). */
export function cmekStateOf(r: CmekRow): NonNullable<CmekState> {
  const enabled = r.cmekEnabled === true || r.cmekEnabled === 1 || r.cmekEnabled === 1n;
  return { cmekEnabled: enabled, cmekFingerprint: r.cmekFingerprint, cmekRotationJobId: r.cmekRotationJobId };
}

/** The state read in the write's transaction against the one the value was checked with: a change in between is a 409, never a value under the wrong key. */
export function assertCmekUnchanged(state: CmekState, checkedFingerprint: string | null): void {
  if (!state) throw ApiError.notFound("Vault not found");
  if (state.cmekRotationJobId) {
    throw ApiError.conflict(`A customer-key job is running on this vault (job ${state.cmekRotationJobId}); writes are refused until it finishes`);
  }
  const current = state.cmekEnabled ? state.cmekFingerprint : null;
  if (current !== checkedFingerprint) throw ApiError.conflict("The vault's customer key changed while this value was being stored; fetch the vault and try again");
}

export type CmekRow = { cmekEnabled: boolean | number | bigint; cmekFingerprint: string | null; cmekRotationJobId: string | null };
