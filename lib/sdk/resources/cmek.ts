import type { CmekJobResponse, CmekVersionBlob } from "../../contract/cmek";
import type { VaultResponse } from "../../contract/vaults";
import { encodeCmekKey } from "../../crypto/cmek";
import { seg, type SdkResponse, type Transport } from "../client";

/** Customer-managed keys on a vault. Keys (raw 32 bytes) go only into the X-CMEK-* headers of the job routes. */
export function cmekResource(t: Transport) {
  return {
    /**
     * Turns CMEK on with the key's SHA-256 fingerprint (64 hex). A vault that already holds values needs
     * `versions`: every readable version, read and encrypted under the key by the caller (docs/cmek.md).
     */
    enable: (vaultId: string, fingerprint: string, versions?: CmekVersionBlob[]): Promise<SdkResponse<VaultResponse>> =>
      t.request("POST", `/v1/vaults/${seg(vaultId)}/cmek`, { body: { fingerprint, ...(versions && { versions }) } }),
    /** Starts the job that converts every version back to a plain value (202; follow it with `job`). */
    disable: (vaultId: string, key: Uint8Array): Promise<SdkResponse<CmekJobResponse>> =>
      t.request("DELETE", `/v1/vaults/${seg(vaultId)}/cmek`, { headers: { "X-CMEK-Key": encodeCmekKey(key) } }),
    /** Starts (or, after a crash, resumes with the same keys) the rotation to `newKey`. */
    rotate: (vaultId: string, oldKey: Uint8Array, newKey: Uint8Array, newFingerprint: string): Promise<SdkResponse<CmekJobResponse>> =>
      t.request("POST", `/v1/vaults/${seg(vaultId)}/cmek-rotate`, {
        body: { new_fingerprint: newFingerprint },
        headers: { "X-CMEK-Old-Key": encodeCmekKey(oldKey), "X-CMEK-New-Key": encodeCmekKey(newKey) },
      }),
    job: (vaultId: string, jobId: string): Promise<SdkResponse<CmekJobResponse>> => t.request("GET", `/v1/vaults/${seg(vaultId)}/cmek-rotate/${seg(jobId)}`),
  };
}
