import { randomUUID } from "node:crypto";
import {
  ROTATE_DEFAULT_CHARSET,
  ROTATE_DEFAULT_LENGTH,
  type PutSecretRequest,
  type PutSecretResponse,
  type RotateSecretRequest,
  type RotateSecretResponse,
  type SecretSummary,
  type SecretType,
  type SecretVersionSummary,
} from "../../lib/contract/secrets";
import { actorOf, auditRow } from "../audit/writer";
import { assertResourceLimitOn } from "../billing/limits";
import { appendAudit } from "../audit/chain";
import { sealSecretVersion } from "../crypto/envelope";
import { timeOrderedId } from "../db/ids";
import { ApiError } from "../http/errors";
import { type Ctx, principalRef } from "../http/principal";
import { assertCmekUnchanged, assertServerMayGenerate, cmekFingerprintForWrite } from "../cmek/state";
import { loadVault, type VaultRecord } from "../vaults/service";
import { assertCanDescribeSecret, assertCanReadSecretValue, assertCanWriteSecret, filterReadable, prefetchSecretAccess } from "./access";
import { generateSecretValue } from "./generate";
import { assertAutoRotationAllowed, rotationColumns, rotationFields, type RotationFields } from "./rotation";
import { isoOrNull, parseMetadata, readSecret } from "./read";
import { findOrgVault, listLatestVersions } from "./repo";
import { type BatchScope, writeInBatch } from "./write-batch";

export { readSecret } from "./read";

/** `cmekFingerprint`: the customer key `value` (a client-made blob) is under; null/absent = a plain value. */
export type NewVersion = { value: string; type: string; metadata: string; expiresAt: Date | null; maxAccessCount: number; cmekFingerprint?: string | null; rotationPolicy?: string | null };
export type CurrentSecret = { id: string; currentVersion: number; deletedAt: Date | null; type: string; metadata: string; rotationPolicy: string | null };

async function findCurrent(batch: BatchScope, vaultId: string, path: string): Promise<CurrentSecret | null> {
  const s = await batch.current(vaultId, path);
  if (!s) return null;
  return { id: s.id, currentVersion: s.currentVersion, deletedAt: s.deletedAt, type: s.type ?? "generic", metadata: s.metadata ?? "{}", rotationPolicy: s.rotationPolicy };
}

type Written = { secretId: string; version: number; createdAt: Date; spec: NewVersion; rotation: ReturnType<typeof rotationColumns> };

/** A version no request writes (the rotation schedule), recorded as `system` (e.g. "system:rotation") in the vault's org. */
export type SystemWriter = Omit<Ctx, "principal"> & { system: `system:${string}` };

/** Plan limits count a request's new secrets; a system writer only adds versions to live ones (its build refuses the rest). */
function requestCtx(ctx: Ctx | SystemWriter): Ctx {
  if ("system" in ctx) throw new Error("a system write may only add a version to a live secret");
  return ctx;
}

/**
 * Appends version n+1 at `path` (creating the secret, or restoring a soft-deleted one). Writers of one
 * path are serialised by `lockSecretPath` at the start of the transaction, so the current version read
 * after it is the one this write follows: concurrent writers all succeed, one after another, with
 * versions unique and gapless — no optimistic retry, no 409, and a brand-new path cannot meet the
 * (vaultId, path) unique index twice. The vault key is fetched before the transaction (it may cost an
 * HSM call); sealing under it inside is in-process AES-GCM, whose associated data needs the secret id
 * and version known only under the lock.
 */
export async function appendVersion(
  ctx: Ctx | SystemWriter,
  vault: VaultRecord,
  path: string,
  action: "secret.write" | "secret.rotate",
  build: (current: CurrentSecret | null) => NewVersion,
): Promise<Written> {
  const author = "system" in ctx ? { orgId: vault.orgId, actorId: ctx.system, actorType: "system" as const } : actorOf(ctx);
  const key = await ctx.rt.vaultKeys.vaultKey(vault);
  try {
    const written = await writeInBatch(ctx.rt, {
      vaultId: vault.id,
      path,
      check: async (tx, batch) => {
        const current = await findCurrent(batch, vault.id, path);
        const spec = build(current);
        assertCmekUnchanged(await batch.cmekState(vault.id), spec.cmekFingerprint ?? null);
        // A new secret, or restoring a deleted path (a live secret again): the plan's limit applies.
        if (!current || current.deletedAt) await assertResourceLimitOn(tx, requestCtx(ctx), "secret", { vaultName: vault.name });
        return async () => {
          const secretId = current?.id ?? randomUUID();
          const version = (current?.currentVersion ?? 0) + 1;
          const ciphertext = sealSecretVersion(key, { vaultId: vault.id, secretId, version }, Buffer.from(spec.value, "utf8"));
          const createdAt = new Date();
          // A new version restarts the rotation interval (absent policy in the request: the secret's own).
          const rotation = rotationColumns(spec.rotationPolicy === undefined ? (current?.rotationPolicy ?? null) : spec.rotationPolicy, createdAt);
          batch.putVersion({ id: secretId, vaultId: vault.id, path, version, exists: current !== null, rotation, at: createdAt }, {
            id: timeOrderedId(createdAt.getTime()),
            secretId,
            version,
            type: spec.type,
            ciphertext,
            metadata: spec.metadata,
            expiresAt: spec.expiresAt,
            maxAccessCount: spec.maxAccessCount,
            cmekFingerprint: spec.cmekFingerprint ?? null,
            createdBy: author.actorId,
            createdAt,
          });
          const audit = auditRow(ctx, { action, resourceType: "secret", resourceId: secretId, details: { vault_id: vault.id, path, version, type: spec.type } }, author);
          return { result: { secretId, version, createdAt, spec, rotation }, audit };
        };
      },
    });
    ctx.rt.metrics.secretWritten(action === "secret.rotate" ? "rotate" : "write");
    return written;
  } finally {
    key.fill(0);
  }
}

/** As loadVault (the caller's org's vault, or 404), on the driver: the write routes' one read before their batch. */
async function loadVaultForWrite(ctx: Ctx, id: string): Promise<VaultRecord> {
  const vault = await findOrgVault(ctx.rt.db, ctx.principal.orgId, id);
  if (!vault) throw ApiError.notFound("Vault not found");
  return vault;
}

function writtenResponse(ctx: Ctx, path: string, w: Written): PutSecretResponse {
  return {
    id: w.secretId,
    path,
    type: w.spec.type as SecretType,
    version: w.version,
    metadata: parseMetadata(w.spec.metadata),
    created_by: principalRef(ctx.principal),
    created_at: w.createdAt.toISOString(),
    expires_at: isoOrNull(w.spec.expiresAt),
    max_access_count: w.spec.maxAccessCount,
    cmek_encrypted: w.spec.cmekFingerprint != null,
    ...rotationFields(w.rotation),
  };
}

export async function putSecret(ctx: Ctx, input: { vaultId: string; path: string; body: PutSecretRequest }): Promise<PutSecretResponse> {
  const vault = await loadVaultForWrite(ctx, input.vaultId);
  await assertCanWriteSecret(ctx, vault, input.path);
  const b = input.body;
  assertAutoRotationAllowed(vault, b.type, b.rotation_policy);
  const spec: NewVersion = {
    value: b.value,
    type: b.type,
    metadata: JSON.stringify(b.metadata ?? {}),
    expiresAt: b.expires_at ? new Date(b.expires_at) : null,
    maxAccessCount: b.max_access_count ?? 0,
    cmekFingerprint: cmekFingerprintForWrite(vault, b.value),
    rotationPolicy: b.rotation_policy === undefined ? undefined : b.rotation_policy && JSON.stringify(b.rotation_policy),
  };
  const written = await appendVersion(ctx, vault, input.path, "secret.write", () => spec);
  return writtenResponse(ctx, input.path, written);
}

/**
 * A new version with a server-generated value, keeping the current version's type and metadata. Expiry
 * and access limits are not carried over: they belonged to the old value.
 */
export async function rotateSecret(ctx: Ctx, input: { vaultId: string; path: string; body: RotateSecretRequest }): Promise<RotateSecretResponse> {
  const vault = await loadVaultForWrite(ctx, input.vaultId);
  await assertCanWriteSecret(ctx, vault, input.path);
  assertServerMayGenerate(vault);
  const length = input.body.length ?? ROTATE_DEFAULT_LENGTH;
  const charset = input.body.charset ?? ROTATE_DEFAULT_CHARSET;
  const value = generateSecretValue(length, charset);
  const written = await appendVersion(ctx, vault, input.path, "secret.rotate", (current) => {
    if (!current) throw ApiError.notFound("Secret not found; create it with PUT first");
    if (current.deletedAt) throw ApiError.gone("Secret has been deleted; PUT a new value to restore it");
    // The answer carries the new value: the same rule as a read of this type applies.
    assertCanReadSecretValue(ctx, input.path, current.type);
    return { value, type: current.type, metadata: current.metadata, expiresAt: null, maxAccessCount: 0 };
  });
  return { ...writtenResponse(ctx, input.path, written), value };
}

/**
 * "Restore as new version": the old version's value, type and metadata stored again as version n+1.
 * The old value is read through `readSecret` (the access rules, its expiry and read limit, one counted
 * and audited `secret.read`), so a restore can never reach a value a read could not; the write checks
 * write access first, so a reader without it spends no read. Expiry and read limits are not carried
 * over, as on rotation: they belonged to the old value's life.
 */
export async function restoreSecretVersion(ctx: Ctx, input: { vaultId: string; path: string; version: number }): Promise<PutSecretResponse> {
  const vault = await loadVaultForWrite(ctx, input.vaultId);
  await assertCanWriteSecret(ctx, vault, input.path);
  const old = await readSecret(ctx, { vaultId: input.vaultId, path: input.path, version: input.version });
  const spec: NewVersion = {
    value: old.value,
    type: old.type,
    metadata: JSON.stringify(old.metadata),
    expiresAt: null,
    maxAccessCount: 0,
    cmekFingerprint: cmekFingerprintForWrite(vault, old.value),
  };
  const written = await appendVersion(ctx, vault, input.path, "secret.write", () => spec);
  return writtenResponse(ctx, input.path, written);
}

/** The live secret at `path` for an operation on it, after the access check: 404 if none, 410 if deleted. */
async function liveSecret(ctx: Ctx, vault: VaultRecord, path: string) {
  const secret = await ctx.rt.db.secret.findUnique({ where: { vaultId_path: { vaultId: vault.id, path } }, select: { id: true, deletedAt: true } });
  if (!secret) throw ApiError.notFound("Secret not found");
  if (secret.deletedAt) throw ApiError.gone("Secret has been deleted");
  return secret;
}

/** Soft delete of every version; a later PUT restores the path as a new version. */
export async function deleteSecret(ctx: Ctx, input: { vaultId: string; path: string }): Promise<void> {
  const vault = await loadVault(ctx, input.vaultId);
  await assertCanWriteSecret(ctx, vault, input.path);
  const secret = await liveSecret(ctx, vault, input.path);
  await ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.secret.updateMany({ where: { id: secret.id, deletedAt: null }, data: { deletedAt: new Date() } });
    if (count !== 1) throw ApiError.gone("Secret has been deleted");
    // Its shares end for good: restoring the path later must not revive a link to it.
    await tx.share.updateMany({ where: { secretId: secret.id, endedAt: null }, data: { endedAt: new Date(), endReason: "secret_deleted" } });
    await appendAudit(tx, auditRow(ctx, { action: "secret.delete", resourceType: "secret", resourceId: secret.id, details: { vault_id: vault.id, path: input.path } }));
  });
}

export async function disableSecretVersion(ctx: Ctx, input: { vaultId: string; path: string; version: number }): Promise<void> {
  const vault = await loadVault(ctx, input.vaultId);
  await assertCanWriteSecret(ctx, vault, input.path);
  const secret = await liveSecret(ctx, vault, input.path);
  await ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.secretVersion.updateMany({ where: { secretId: secret.id, version: input.version }, data: { isDisabled: true } });
    if (count !== 1) throw ApiError.notFound(`Version ${input.version} of this secret does not exist`);
    await appendAudit(tx, auditRow(ctx, {
      action: "secret.version_disable",
      resourceType: "secret",
      resourceId: secret.id,
      details: { vault_id: vault.id, path: input.path, version: input.version },
    }));
  });
}

export async function listSecrets(ctx: Ctx, input: { vaultId: string; prefix?: string; rotationDue?: boolean }): Promise<{ secrets: SecretSummary[] }> {
  prefetchSecretAccess(ctx, input.vaultId);
  const vault = await loadVault(ctx, input.vaultId);
  const readable = await filterReadable(ctx, vault, await listLatestVersions(ctx.rt.db, vault.id, input.prefix ?? ""));
  const rotation = await rotationOf(ctx, vault.id, readable);
  const rows = input.rotationDue === undefined ? readable : readable.filter((r) => (rotation.get(r.id)?.rotation_due ?? false) === input.rotationDue);
  return {
    secrets: rows.map((r) => ({
      id: r.id,
      path: r.path,
      type: r.type as SecretType,
      version: r.version,
      metadata: parseMetadata(r.metadata),
      created_at: r.createdAt.toISOString(),
      expires_at: isoOrNull(r.expiresAt),
      max_access_count: r.maxAccessCount,
      ...rotation.get(r.id),
    })),
  };
}

/** Rotation fields of the listed secrets that have a policy: one query on the (cold) list path, beside the hot listing. */
async function rotationOf(ctx: Ctx, vaultId: string, rows: { id: string }[]) {
  if (rows.length === 0) return new Map<string, RotationFields>();
  const withPolicy = await ctx.rt.db.secret.findMany({
    where: { vaultId, id: { in: rows.map((r) => r.id) }, rotationPolicy: { not: null } },
    select: { id: true, rotationPolicy: true, rotationDueAt: true },
  });
  const now = Date.now();
  return new Map(withPolicy.map((s) => [s.id, rotationFields(s, now)]));
}

export async function listSecretVersions(ctx: Ctx, input: { vaultId: string; path: string }): Promise<{ versions: SecretVersionSummary[] }> {
  const vault = await loadVault(ctx, input.vaultId);
  await assertCanDescribeSecret(ctx, vault, input.path);
  const secret = await liveSecret(ctx, vault, input.path);
  const versions = await ctx.rt.db.secretVersion.findMany({
    where: { secretId: secret.id },
    orderBy: { version: "asc" },
    select: { version: true, type: true, metadata: true, createdAt: true, createdBy: true, expiresAt: true, isDisabled: true },
  });
  return {
    versions: versions.map((v) => ({
      version: v.version,
      type: v.type as SecretType,
      metadata: parseMetadata(v.metadata),
      created_at: v.createdAt.toISOString(),
      created_by: v.createdBy,
      expires_at: isoOrNull(v.expiresAt),
      is_disabled: v.isDisabled,
    })),
  };
}

/**
 * A secret Talon writes as part of another operation it has already authorised (an agent's SSH
 * private key at registration): sealed and versioned like any other, with its own audit event, but
 * without a second access decision — the registering human may have no policy on `__agent-keys`.
 */
export async function putManagedSecret(ctx: Ctx, vault: VaultRecord, path: string, value: string, type: SecretType): Promise<{ secretId: string; version: number }> {
  const w = await appendVersion(ctx, vault, path, "secret.write", () => ({ value, type, metadata: "{}", expiresAt: null, maxAccessCount: 0 }));
  return { secretId: w.secretId, version: w.version };
}
