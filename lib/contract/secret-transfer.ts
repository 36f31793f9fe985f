import { z } from "@hono/zod-openapi";
import { ZUuid } from "./common";
import { SECRET_PATH_MAX, ZSecretPath } from "./secret-path";
import { ZSecretType, ZSecretValue } from "./secrets";

/**
 * Moving many secrets at once (dashboard): importing a `.env` file's variables as secrets, exporting a
 * folder's values as `.env` or JSON, and the "Recently deleted" view with its restore. Imports and
 * exports go through the same services a single write or read does (access rules, one version or one
 * audited read per secret).
 */
export const SECRET_IMPORT_MAX_ENTRIES = 500;
/** A server action's request body is capped at 1 MB by Next.js; the values together stay under it. */
export const SECRET_IMPORT_MAX_BYTES = 900 * 1024;
export const SECRET_EXPORT_MAX = 500;
/** How long a deleted secret can be restored; after that only a new value (PUT) brings the path back. */
export const SECRET_RESTORE_WINDOW_DAYS = 7;

const utf8Length = (s: string) => new TextEncoder().encode(s).length;

/** A folder: "" (the whole vault) or a path prefix ending in `/`, as the list's `prefix` takes it. */
export const ZSecretFolder = z
  .string()
  .max(SECRET_PATH_MAX)
  .regex(/^([a-zA-Z0-9_-]+\/)*$/, "must be empty or folder names each followed by '/'");

export const ZImportSecretsRequest = z
  .strictObject({
    vault_id: ZUuid,
    type: ZSecretType.default("generic").openapi({ description: "Type of the secrets this import creates; existing ones keep theirs" }),
    entries: z
      .array(z.strictObject({ path: ZSecretPath, value: ZSecretValue }))
      .min(1)
      .max(SECRET_IMPORT_MAX_ENTRIES)
      .refine((es) => new Set(es.map((e) => e.path)).size === es.length, "must not name the same path twice")
      .refine((es) => es.reduce((n, e) => n + utf8Length(e.value), 0) <= SECRET_IMPORT_MAX_BYTES, `values must add up to at most ${SECRET_IMPORT_MAX_BYTES} bytes`),
  })
  .openapi("ImportSecretsRequest");

export const ZImportSecretsResponse = z.object({
  written: z.array(z.object({ path: z.string(), version: z.number().int() })),
});

export const ZExportSecretsRequest = z.strictObject({
  vault_id: ZUuid,
  prefix: ZSecretFolder,
  format: z.enum(["env", "json"]),
});

export const ZExportSecretsResponse = z.object({
  filename: z.string(),
  content: z.string(),
  exported: z.array(z.string()),
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
});

export const ZDeletedSecret = z
  .object({
    id: ZUuid,
    path: z.string(),
    type: ZSecretType,
    version: z.number().int(),
    deleted_at: z.string(),
    restorable_until: z.string(),
  })
  .openapi("DeletedSecret");

export const ZDeletedSecretList = z.object({ secrets: z.array(ZDeletedSecret) }).openapi("DeletedSecretList");

export const ZRestoredSecret = z
  .object({ id: ZUuid, path: z.string(), type: ZSecretType, version: z.number().int() })
  .openapi("RestoredSecret");

export type ImportSecretsRequest = z.input<typeof ZImportSecretsRequest>;
export type ImportSecretsResponse = z.infer<typeof ZImportSecretsResponse>;
export type ExportSecretsRequest = z.input<typeof ZExportSecretsRequest>;
export type ExportSecretsResponse = z.infer<typeof ZExportSecretsResponse>;
export type DeletedSecret = z.infer<typeof ZDeletedSecret>;
export type RestoredSecret = z.infer<typeof ZRestoredSecret>;
