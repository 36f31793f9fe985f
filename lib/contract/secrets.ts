import { z } from "@hono/zod-openapi";
import { ZIsoDate, ZMetadata, ZUuid } from "./common";
import { SECRET_PATH_MAX, ZSecretPath } from "./secret-path";

export const SECRET_TYPES = ["generic", "password", "api_key", "private_key", "certificate", "file", "note", "ssh_key", "env", "env_bundle"] as const;
export const ZSecretType = z.enum(SECRET_TYPES).openapi({ example: "api_key" });
export type SecretType = z.infer<typeof ZSecretType>;

export const SECRET_VALUE_MAX_BYTES = 48 * 1024;
export const SECRET_METADATA_MAX_BYTES = 8 * 1024;
const INT32_MAX = 2_147_483_647;

const utf8Length = (s: string) => new TextEncoder().encode(s).length;

export const ZSecretValue = z
  .string()
  // `abort` stops here, so a value that is too long is reported once, not again by the byte check.
  .max(SECRET_VALUE_MAX_BYTES, { abort: true })
  .refine((v) => utf8Length(v) <= SECRET_VALUE_MAX_BYTES, `must be at most ${SECRET_VALUE_MAX_BYTES} bytes (UTF-8)`);

const ZSecretMetadata = ZMetadata.refine(
  (m) => utf8Length(JSON.stringify(m)) <= SECRET_METADATA_MAX_BYTES,
  `must serialise to at most ${SECRET_METADATA_MAX_BYTES} bytes`,
);

export const ROTATION_INTERVAL_MAX_DAYS = 3650;

export const ROTATE_CHARSETS = ["hex", "base64", "alphanumeric", "ascii"] as const;
export const ROTATE_DEFAULT_LENGTH = 32;
export const ROTATE_DEFAULT_CHARSET = "alphanumeric";

export const ZRotateSecretRequest = z
  .strictObject({
    length: z.number().int().min(8).max(1024).optional().openapi({ description: `Characters to generate (default ${ROTATE_DEFAULT_LENGTH})` }),
    charset: z.enum(ROTATE_CHARSETS).optional().openapi({ description: `Alphabet (default ${ROTATE_DEFAULT_CHARSET})` }),
  })
  .openapi("RotateSecretRequest");

/**
 * Types a server-generated random string is a valid value of. Keys, certificates, files, notes and env
 * bundles have a structure a random string would break, so they cannot rotate themselves.
 */
export const AUTO_ROTATE_TYPES = ["generic", "password", "api_key"] as const satisfies readonly SecretType[];

/**
 * When the latest version is `interval_days` old the secret is due (`rotation_due_at`). Without
 * `auto_rotate` that is a reminder: the audit log (and webhooks subscribed to `secret.rotation_due`)
 * announce it once and the dashboard lists it. With `auto_rotate: true` the server rotates it itself,
 * as `POST …/secret-rotate` would with `generate` (length, charset); only for AUTO_ROTATE_TYPES and
 * never in a CMEK vault. Any new version (PUT, rotate) starts the interval again.
 */
export const ZRotationPolicy = z
  .strictObject({
    interval_days: z.number().int().min(1).max(ROTATION_INTERVAL_MAX_DAYS).openapi({ description: "Days a version may live before it is due for rotation", example: 90 }),
    auto_rotate: z.boolean().optional().openapi({ description: "true: when due, the server writes a new version with a generated value (generic, password, api_key; not in CMEK vaults)" }),
    generate: ZRotateSecretRequest.optional().openapi({ description: "How the scheduled rotation generates the value (with auto_rotate)" }),
  })
  .refine((p) => p.generate === undefined || p.auto_rotate === true, { message: "generate needs auto_rotate: true", path: ["generate"] })
  .openapi("RotationPolicy");
export type RotationPolicy = z.infer<typeof ZRotationPolicy>;

export const ZPutSecretRequest = z
  .strictObject({
    value: ZSecretValue,
    type: ZSecretType.default("generic"),
    metadata: ZSecretMetadata.optional(),
    // Checked against the clock here so the 400 names the field; null means "no expiry".
    expires_at: ZIsoDate.refine((d) => Date.parse(d) > Date.now(), "must be in the future").nullable().optional(),
    max_access_count: z.number().int().min(0).max(INT32_MAX).optional().openapi({ description: "Reads allowed for this version; 0 = unlimited" }),
    rotation_policy: ZRotationPolicy.nullable()
      .optional()
      .openapi({ description: "Absent: keep the secret's policy; null: remove it; an object: set it (the interval counts from this version)" }),
  })
  .openapi("PutSecretRequest");

const pathParam = ZSecretPath.openapi({ param: { name: "path", in: "path" } });
const idParam = ZUuid.openapi({ param: { name: "id", in: "path" } });

export const ZSecretParams = z.object({ id: idParam, path: pathParam });
export const ZSecretVersionParams = z.object({
  id: idParam,
  path: pathParam,
  version: z.coerce.number().int().min(1).max(INT32_MAX).openapi({ param: { name: "version", in: "path" }, type: "integer", minimum: 1 }),
});

export const ZListSecretsQuery = z.object({
  prefix: z
    .string()
    .max(SECRET_PATH_MAX)
    .regex(/^[a-zA-Z0-9_\-/]*$/, "may contain only letters, digits, '_', '-' and '/'")
    .optional()
    .openapi({ param: { name: "prefix", in: "query" }, example: "api-keys/" }),
  rotation_due: z
    .enum(["true", "false"])
    .optional()
    .openapi({ param: { name: "rotation_due", in: "query" }, description: "true: only secrets whose rotation is due; false: only those not due" }),
});

const secretMeta = {
  id: ZUuid,
  path: z.string(),
  type: ZSecretType,
  version: z.number().int(),
  metadata: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  max_access_count: z.number().int(),
  rotation_policy: ZRotationPolicy.optional().openapi({ description: "Present only when the secret has one" }),
  rotation_due_at: z.string().nullable().optional().openapi({ description: "When the latest version is due for rotation (with rotation_policy)" }),
  rotation_due: z.boolean().optional().openapi({ description: "rotation_due_at has passed: store a new version" }),
};

export const ZPutSecretResponse = z
  .object({ ...secretMeta, created_by: z.string(), cmek_encrypted: z.boolean() })
  .openapi("SecretWritten");

export const ZRotateSecretResponse = z
  .object({ ...secretMeta, created_by: z.string(), cmek_encrypted: z.boolean(), value: z.string() })
  .openapi("SecretRotated");

export const ZSecretResponse = z
  .object({ ...secretMeta, value: z.string(), created_by: z.string(), access_count: z.number().int(), cmek_encrypted: z.boolean() })
  .openapi("Secret");

/** A secret with a rotation policy, as the dashboard's rotation page lists it across vaults (paths and dates, never a value). */
export const ZScheduledRotation = z.object({
  secret_id: ZUuid,
  vault_id: ZUuid,
  vault_name: z.string(),
  path: z.string(),
  version: z.number().int(),
  rotation_policy: ZRotationPolicy,
  rotation_due_at: z.string().nullable(),
  rotation_due: z.boolean(),
});
export type ScheduledRotation = z.infer<typeof ZScheduledRotation>;

export const ZSecretListResponse = z.object({ secrets: z.array(z.object(secretMeta).openapi("SecretSummary")) }).openapi("SecretList");

export const ZSecretVersionsResponse = z
  .object({
    versions: z.array(
      z
        .object({
          version: z.number().int(),
          type: ZSecretType,
          metadata: z.record(z.string(), z.unknown()),
          created_at: z.string(),
          created_by: z.string(),
          expires_at: z.string().nullable(),
          is_disabled: z.boolean(),
        })
        .openapi("SecretVersionSummary"),
    ),
  })
  .openapi("SecretVersions");

export type PutSecretRequest = z.infer<typeof ZPutSecretRequest>;
export type RotateSecretRequest = z.infer<typeof ZRotateSecretRequest>;
export type SecretResponse = z.infer<typeof ZSecretResponse>;
export type PutSecretResponse = z.infer<typeof ZPutSecretResponse>;
export type RotateSecretResponse = z.infer<typeof ZRotateSecretResponse>;
export type SecretSummary = z.infer<typeof ZSecretListResponse>["secrets"][number];
export type SecretVersionSummary = z.infer<typeof ZSecretVersionsResponse>["versions"][number];

/**
 * A listed secret with two facts of its current version the listing leaves out (dashboard): its
 * counted reads (reads are counted only when `max_access_count` > 0) and whether it was disabled.
 */
export type SecretRow = SecretSummary & { access_count: number; disabled: boolean };
