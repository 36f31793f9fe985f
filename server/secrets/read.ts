import type { AtOnce } from "../../lib/at-once";
import type { SecretResponse, SecretType } from "../../lib/contract/secrets";
import { openSecretVersion } from "../crypto/envelope";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { KeystoreIntegrityError } from "../keystore/types";
import { log } from "../log";
import { assertCanReadSecret, assertCanReadSecretValue, prefetchSecretAccess } from "./access";
import type { VaultKeyRecord } from "../crypto/types";
import { consumeAccess, findSecretForRead, type SecretVersionRow } from "./repo";

export const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);
export const parseMetadata = (json: string) => JSON.parse(json) as Record<string, unknown>;

const exhausted = (max: number) => ApiError.gone(`Secret has reached its max_access_count (${max} reads); store a new version`);

type Opening = Pick<Ctx, "rt" | "requestId">;
type Sealed = Pick<SecretVersionRow, "version" | "ciphertext">;

/** An integrity failure becomes a logged 500 that names the request (never the blob or key material); anything else passes on. */
function refuseUnopened(e: unknown, ctx: Opening, vault: VaultKeyRecord, secretId: string, v: Sealed): never {
  if (!(e instanceof KeystoreIntegrityError)) throw e;
  log.error("secret integrity check failed", { requestId: ctx.requestId, vaultId: vault.id, resourceId: secretId, version: v.version });
  throw new ApiError(500, `The stored secret failed its integrity check and was not returned. Quote request id ${ctx.requestId}.`);
}

/** Opens with the vault key `key` (a copy: zeroed here, whatever happens). */
function openWith(key: Buffer, ctx: Opening, vault: VaultKeyRecord, secretId: string, v: Sealed): string {
  try {
    return openSecretVersion(key, { vaultId: vault.id, secretId, version: v.version }, v.ciphertext).toString("utf8");
  } catch (e) {
    return refuseUnopened(e, ctx, vault, secretId, v);
  } finally {
    key.fill(0);
  }
}

/**
 * Opens a version's ciphertext. A blob that fails to open (altered, or copied from another row) is
 * never returned: the request fails with a 500 that says why, and the event is logged without the
 * blob or any key material. With the vault's key cached the value is returned at once (no promise and
 * no closure: the hot path); otherwise a promise of it, once the key is unwrapped.
 */
export function openValue(ctx: Opening, vault: VaultKeyRecord, secretId: string, v: Sealed): AtOnce<string> {
  const cached = ctx.rt.vaultKeys.cachedVaultKey(vault);
  if (cached) return openWith(cached, ctx, vault, secretId, v);
  return ctx.rt.vaultKeys.vaultKey(vault).then(
    (key) => openWith(key, ctx, vault, secretId, v),
    (e: unknown) => refuseUnopened(e, ctx, vault, secretId, v),
  );
}

/**
 * The hot path: one SELECT, an access decision on the path, the vault key from the cache, AES in
 * process, one conditional UPDATE only for count-limited versions, and the audit event through group
 * commit — awaited, so no value leaves before its `secret.read` event is durable.
 */
export async function readSecret(ctx: Ctx, input: { vaultId: string; path: string; version?: number }): Promise<SecretResponse> {
  const { vaultId, path, version } = input;
  prefetchSecretAccess(ctx, vaultId);
  const found = findSecretForRead(ctx.rt.db, ctx.principal.orgId, vaultId, path, version);
  const row = found instanceof Promise ? await found : found;
  if (!row) throw ApiError.notFound("Vault not found");
  // Decided at once when the caller's policies are cached: awaited only when it returns a promise.
  const decided = assertCanReadSecret(ctx, row.vault, path);
  if (decided) await decided;
  const { secret, version: v } = row;
  if (!secret) throw ApiError.notFound("Secret not found; list the vault's secrets to find its path");
  if (secret.deletedAt) throw ApiError.gone("Secret has been deleted");
  if (!v) throw ApiError.notFound(version === undefined ? "Secret not found" : `Version ${version} of this secret does not exist`);
  assertCanReadSecretValue(ctx, path, v.type);
  if (v.isDisabled) throw ApiError.gone(`Version ${v.version} of this secret is disabled`);
  if (v.expiresAt && v.expiresAt.getTime() <= Date.now()) throw ApiError.gone("Secret has expired; store a new version");
  if (v.maxAccessCount > 0 && v.accessCount >= v.maxAccessCount) throw exhausted(v.maxAccessCount);

  // Opened before the access is counted: a blob that fails its integrity check costs no read.
  const opened = openValue(ctx, row.vault, secret.id, v);
  const value = typeof opened === "string" ? opened : await opened;
  let accessCount = v.accessCount;
  if (v.maxAccessCount > 0) {
    if (!(await consumeAccess(ctx.rt.db, v.id))) throw exhausted(v.maxAccessCount);
    accessCount += 1;
  }
  await ctx.rt.audit.record(ctx, {
    action: "secret.read",
    resourceType: "secret",
    resourceId: secret.id,
    details: { vault_id: vaultId, path, version: v.version },
  });
  ctx.rt.metrics.secretRead("direct");
  return {
    id: secret.id,
    path,
    type: v.type as SecretType,
    value,
    version: v.version,
    metadata: parseMetadata(v.metadata),
    created_by: v.createdBy,
    created_at: v.createdAt.toISOString(),
    expires_at: isoOrNull(v.expiresAt),
    max_access_count: v.maxAccessCount,
    access_count: accessCount,
    cmek_encrypted: v.cmekFingerprint !== null,
  };
}
