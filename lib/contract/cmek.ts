import { z } from "@hono/zod-openapi";
import { ZUuid } from "./common";
import { ZSecretPath } from "./secret-path";
import { SECRET_VALUE_MAX_BYTES } from "./secrets";

/** SHA-256 of the raw 32-byte customer key, lowercase hex (lib/crypto/cmek.ts, docs/cmek.md). */
export const ZCmekFingerprint = z
  .string()
  .max(64)
  .regex(/^[0-9a-f]{64}$/, "must be the SHA-256 of the key as 64 lowercase hex characters")
  .openapi({ example: "9f2c1e0b7d4a5f3e2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d" });

/** The most versions one enable may re-encrypt (the body limit usually binds first: docs/cmek.md). */
export const CMEK_ENABLE_MAX_VERSIONS = 1000;

/** One existing version's value, encrypted by the client under the new key for its vault and path. */
export const ZCmekVersionBlob = z
  .strictObject({
    path: ZSecretPath,
    version: z.number().int().min(1).max(2_147_483_647),
    blob: z.string().max(SECRET_VALUE_MAX_BYTES).openapi({ description: "The version's value as a 0x02 blob under the key `fingerprint` names (docs/cmek.md)" }),
  })
  .openapi("CmekVersionBlob");

export const ZEnableCmekRequest = z
  .strictObject({
    fingerprint: ZCmekFingerprint,
    versions: z
      .array(ZCmekVersionBlob)
      .max(CMEK_ENABLE_MAX_VERSIONS)
      .optional()
      .openapi({
        description:
          "For a vault that already holds values: every readable version (secrets not deleted, versions not disabled, expired or used up), each encrypted by the client. The server swaps them in, in one transaction, or changes nothing (409 naming what is missing or extra). Omitted: only an empty vault can be enabled.",
      }),
  })
  .openapi("EnableCmekRequest");

export const ZCmekRotateRequest = z.strictObject({ new_fingerprint: ZCmekFingerprint }).openapi("CmekRotateRequest");

/** A key in a header: standard base64 of 32 bytes (44 characters). Never logged, stored or echoed. */
const keyHeader = (description: string) => z.string().max(64).openapi({ description });

export const ZCmekRotateHeaders = z.object({
  "x-cmek-old-key": keyHeader("The vault's current customer key, base64 of 32 bytes; must match the vault's fingerprint"),
  "x-cmek-new-key": keyHeader("The new customer key, base64 of 32 bytes; must match new_fingerprint"),
});

export const ZCmekDisableHeaders = z.object({
  "x-cmek-key": keyHeader("The vault's current customer key, base64 of 32 bytes: the server opens every value with it and stores it back without a customer key"),
});

export const ZCmekJobParams = z.object({
  id: ZUuid.openapi({ param: { name: "id", in: "path" } }),
  job_id: ZUuid.openapi({ param: { name: "job_id", in: "path" } }),
});

export const CMEK_JOB_STATUSES = ["running", "completed", "failed"] as const;

export const ZCmekJobResponse = z
  .object({
    id: ZUuid,
    vault_id: ZUuid,
    kind: z.enum(["rotate", "disable"]).openapi({ description: "`rotate`: old key → new key; `disable`: old key → no customer key" }),
    old_fingerprint: z.string(),
    new_fingerprint: z.string().nullable().openapi({ description: "null for `disable`" }),
    status: z.enum(CMEK_JOB_STATUSES),
    processed: z.number().int().openapi({ description: "Secret versions re-encrypted so far" }),
    total: z.number().int().openapi({ description: "Secret versions under the old key when the job started" }),
    error: z.string().nullable(),
    stalled: z.boolean().openapi({ description: "Running, but its server has not reported progress for 10 s (it stopped or died): start it again with the same keys to resume it" }),
    started_at: z.string(),
    finished_at: z.string().nullable(),
  })
  .openapi("CmekRotationJob");

export type EnableCmekRequest = z.infer<typeof ZEnableCmekRequest>;
export type CmekVersionBlob = z.infer<typeof ZCmekVersionBlob>;

/** Dashboard only: what enabling CMEK on a vault with values needs the browser to read and encrypt. */
export type CmekEnablePlan = {
  /** Every version a read can return: the browser reads, encrypts and sends each of these. */
  versions: { path: string; version: number }[];
  /** Versions no read can return any more (disabled, expired, used up): their values are erased. */
  erased: number;
  /** Deleted secrets that still hold readable versions: restore them (or leave CMEK off) first. */
  deleted_paths: string[];
};
export type CmekRotateRequest = z.infer<typeof ZCmekRotateRequest>;
export type CmekJobResponse = z.infer<typeof ZCmekJobResponse>;
