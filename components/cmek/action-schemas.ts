import { z } from "zod";
import { ZCmekFingerprint } from "@/lib/contract/cmek";
import { ZUuid } from "@/lib/contract/common";

/**
 * The inputs of the vault page's customer-managed-key actions: the API's own contract schemas
 * (lib/contract/cmek.ts) with the ids the API takes from the URL, and the keys it takes from the
 * X-CMEK-* headers (base64 of 32 bytes; checked against their fingerprints by the service).
 */
const ZKeyText = z.string().max(64);

export const ZEnableCmekInput = z.strictObject({ vault_id: ZUuid, fingerprint: ZCmekFingerprint });
export const ZRotateCmekInput = z.strictObject({ vault_id: ZUuid, new_fingerprint: ZCmekFingerprint, old_key: ZKeyText, new_key: ZKeyText });
export const ZDisableCmekInput = z.strictObject({ vault_id: ZUuid, key: ZKeyText });
export const ZCmekJobInput = z.strictObject({ vault_id: ZUuid, job_id: ZUuid });

export type EnableCmekInput = z.input<typeof ZEnableCmekInput>;
export type RotateCmekInput = z.input<typeof ZRotateCmekInput>;
export type DisableCmekInput = z.input<typeof ZDisableCmekInput>;
export type CmekJobInput = z.input<typeof ZCmekJobInput>;
