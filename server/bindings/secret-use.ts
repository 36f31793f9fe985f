import { assertMayReceiveValue, assertPathAccess, type VaultForAccess } from "../access/evaluate";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { openValue } from "../secrets/read";
import { consumeAccess, findSecretForRead } from "../secrets/repo";

/**
 * The value of a binding's secret, for Talon to use on the caller's behalf. The same story as a read
 * (server/secrets/read.ts): access on the path before existence (op `use`, which `read` implies), then
 * deleted / disabled / expired / used up, then open, then count — a use is counted against
 * max_access_count like a read. The value never leaves this server except to the binding's destination.
 * The caller writes the audit event (it knows how the use ended).
 */
export type UsedSecret = { secretId: string; version: number; type: string; value: string };

export async function useSecretValue(ctx: Ctx, vault: VaultForAccess, path: string): Promise<UsedSecret> {
  const row = await findSecretForRead(ctx.rt.db, ctx.principal.orgId, vault.id, path);
  if (!row) throw ApiError.notFound("Vault not found");
  await assertPathAccess(ctx, row.vault, path, "use");
  const { secret, version: v } = row;
  if (!secret || !v) throw ApiError.notFound("The binding's secret does not exist; ask a human to store it or fix the binding's secret_path");
  if (secret.deletedAt) throw ApiError.gone("The binding's secret has been deleted");
  // Scopes, and no raw keys for crypto-proxy agents: using a key is as good as holding it here.
  assertMayReceiveValue(ctx.principal, path, v.type);
  if (v.isDisabled) throw ApiError.gone(`Version ${v.version} of the binding's secret is disabled`);
  if (v.expiresAt && v.expiresAt.getTime() <= Date.now()) throw ApiError.gone("The binding's secret has expired; ask a human to store a new version");
  if (v.maxAccessCount > 0 && v.accessCount >= v.maxAccessCount) {
    throw ApiError.gone(`The binding's secret has reached its max_access_count (${v.maxAccessCount} uses); ask a human to store a new version`);
  }
  if (v.cmekFingerprint !== null) {
    throw ApiError.conflict("The binding's secret is in a CMEK vault: it is encrypted with a key only the client holds, so Talon cannot inject it");
  }
  const value = await openValue(ctx, row.vault, secret.id, v);
  if (v.maxAccessCount > 0 && !(await consumeAccess(ctx.rt.db, v.id))) {
    throw ApiError.gone(`The binding's secret has reached its max_access_count (${v.maxAccessCount} uses); ask a human to store a new version`);
  }
  return { secretId: secret.id, version: v.version, type: v.type, value };
}
