import { z } from "zod";
import { CMEK_ENABLE_MAX_VERSIONS, ZCmekFingerprint, ZCmekVersionBlob } from "@/lib/contract/cmek";
import { ZUuid } from "@/lib/contract/common";
import { ZSecretPath } from "@/lib/contract/secret-path";

/**
 * The inputs of the vault page's customer-managed-key actions: the API's own contract schemas
 * (lib/contract/cmek.ts) with the ids the API takes from the URL, and the keys it takes from the
 * X-CMEK-* headers (base64 of 32 bytes; checked against their fingerprints by the service).
 */
const ZKeyText = z.string().max(64);

export const ZEnableCmekInput = z.strictObject({ vault_id: ZUuid, fingerprint: ZCmekFingerprint, versions: z.array(ZCmekVersionBlob).max(CMEK_ENABLE_MAX_VERSIONS).optional() });
export const ZCmekPlanInput = z.strictObject({ vault_id: ZUuid });
/** The browser reads the values to encrypt in batches of this many. */
export const CMEK_READ_BATCH = 50;
export const ZCmekReadBatchInput = z.strictObject({
  vault_id: ZUuid,
  versions: z.array(z.strictObject({ path: ZSecretPath, version: z.number().int().min(1).max(2_147_483_647) })).min(1).max(CMEK_READ_BATCH),
});
export const ZRotateCmekInput = z.strictObject({ vault_id: ZUuid, new_fingerprint: ZCmekFingerprint, old_key: ZKeyText, new_key: ZKeyText });
export const ZDisableCmekInput = z.strictObject({ vault_id: ZUuid, key: ZKeyText });
export const ZCmekJobInput = z.strictObject({ vault_id: ZUuid, job_id: ZUuid });

export type EnableCmekInput = z.input<typeof ZEnableCmekInput>;
export type RotateCmekInput = z.input<typeof ZRotateCmekInput>;
export type DisableCmekInput = z.input<typeof ZDisableCmekInput>;
export type CmekJobInput = z.input<typeof ZCmekJobInput>;
export type CmekPlanInput = z.input<typeof ZCmekPlanInput>;
export type CmekReadBatchInput = z.input<typeof ZCmekReadBatchInput>;
