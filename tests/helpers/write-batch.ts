import { randomUUID } from "node:crypto";
import type { AuditRowInput } from "../../server/audit/chain";

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
