import { randomBytes, randomUUID } from "node:crypto";
import type { AuditRowInput } from "../../server/audit/chain";
import type { CurrentSecretRow } from "../../server/secrets/repo";
import type { BatchScope } from "../../server/secrets/write-batch";

/** Records in `batch` the next version of `path` after `current` (a new secret when null): a generic value of random bytes. */
export function putNextVersion(batch: BatchScope, vaultId: string, path: string, current: CurrentSecretRow | null): { id: string; version: number } {
  const at = new Date();
  const id = current?.id ?? randomUUID();
  const version = (current?.currentVersion ?? 0) + 1;
  const rotation = { rotationPolicy: null, rotationDueAt: null, rotationNotifiedAt: null };
  batch.putVersion(
    { id, vaultId, path, version, exists: current !== null, rotation, at },
    { id: randomUUID(), secretId: id, version, type: "generic", ciphertext: randomBytes(40), metadata: `{"v":${version}}`, expiresAt: null, maxAccessCount: 0, cmekFingerprint: null, createdBy: "test", createdAt: at },
  );
  return { id, version };
}

/** The audit row a test write hands the secret write batch (server/secrets/write-batch.ts): a user's `secret.write` of `path`. */
export function secretWriteAudit(
  owner: { orgId: string; userId: string },
  vaultId: string,
  secretId: string,
  path: string,
  details: Record<string, unknown> = {},
): AuditRowInput {
  return {
    id: randomUUID(),
    orgId: owner.orgId,
    actorId: `user:${owner.userId}`,
    actorType: "user",
    action: "secret.write",
    resourceType: "secret",
    resourceId: secretId,
    details: JSON.stringify({ vault_id: vaultId, path, ...details }),
    ipAddress: "127.0.0.1",
    requestId: randomUUID(),
    createdAt: new Date(),
  };
}
