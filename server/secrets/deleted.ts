import { type DeletedSecret, type RestoredSecret, SECRET_RESTORE_WINDOW_DAYS } from "../../lib/contract/secret-transfer";
import type { SecretType } from "../../lib/contract/secrets";
import { appendAudit } from "../audit/chain";
import { auditRow } from "../audit/writer";
import { assertResourceLimit } from "../billing/limits";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { loadVault } from "../vaults/service";
import { assertCanWriteSecret, filterReadable } from "./access";
import { lockSecretPath } from "./repo";

/**
 * Deleted secrets (soft-deleted by `deleteSecret`, every version kept) and their restore: for
 * `SECRET_RESTORE_WINDOW_DAYS` after the delete the secret comes back as it was (same id, versions,
 * read counts); later, only a new value stored with PUT brings the path back. Shares ended by the
 * delete stay ended: a restore must not revive a link someone meant to kill.
 */
const WINDOW_MS = SECRET_RESTORE_WINDOW_DAYS * 24 * 60 * 60 * 1000;

const restorableSince = () => new Date(Date.now() - WINDOW_MS);

/** The vault's secrets deleted within the window, newest delete first, narrowed to the paths the caller may read. */
export async function listDeletedSecrets(ctx: Ctx, input: { vaultId: string }): Promise<{ secrets: DeletedSecret[] }> {
  const vault = await loadVault(ctx, input.vaultId);
  const rows = await ctx.rt.db.secret.findMany({
    where: { vaultId: vault.id, deletedAt: { gte: restorableSince() } },
    orderBy: { deletedAt: "desc" },
    take: 1000,
    select: { id: true, path: true, currentVersion: true, deletedAt: true, versions: { orderBy: { version: "desc" }, take: 1, select: { type: true } } },
  });
  const readable = await filterReadable(ctx, vault, rows);
  return {
    secrets: readable.map((r) => ({
      id: r.id,
      path: r.path,
      type: (r.versions[0]?.type ?? "generic") as SecretType,
      version: r.currentVersion,
      deleted_at: r.deletedAt!.toISOString(),
      restorable_until: new Date(r.deletedAt!.getTime() + WINDOW_MS).toISOString(),
    })),
  };
}

/**
 * Undoes a delete within the window: the same access rule as a write (checked on the path first), the
 * plan's secret limit as for a new secret, and a `secret.restore` event in the same transaction. The
 * conditional update makes two concurrent restores (or a restore racing a PUT that already revived the
 * path) end with one winner and a 409 for the other.
 */
export async function restoreDeletedSecret(ctx: Ctx, input: { vaultId: string; path: string }): Promise<RestoredSecret> {
  const vault = await loadVault(ctx, input.vaultId);
  await assertCanWriteSecret(ctx, vault, input.path);
  const secret = await ctx.rt.db.secret.findUnique({
    where: { vaultId_path: { vaultId: vault.id, path: input.path } },
    select: { id: true, deletedAt: true, currentVersion: true, versions: { orderBy: { version: "desc" }, take: 1, select: { type: true } } },
  });
  if (!secret) throw ApiError.notFound("Secret not found");
  if (!secret.deletedAt) throw ApiError.conflict("This secret is not deleted");
  const since = restorableSince();
  if (secret.deletedAt < since) {
    throw ApiError.gone(`This secret was deleted more than ${SECRET_RESTORE_WINDOW_DAYS} days ago and can no longer be restored; store a new value instead`);
  }
  await ctx.rt.db.$transaction(async (tx) => {
    await lockSecretPath(tx, ctx.rt.dialect, vault.id, input.path);
    await assertResourceLimit(tx, ctx, "secret", { vaultName: vault.name });
    const { count } = await tx.secret.updateMany({ where: { id: secret.id, deletedAt: { not: null, gte: since } }, data: { deletedAt: null } });
    if (count !== 1) throw ApiError.conflict("This secret was restored or written again meanwhile");
    await appendAudit(tx, auditRow(ctx, {
      action: "secret.restore",
      resourceType: "secret",
      resourceId: secret.id,
      details: { vault_id: vault.id, path: input.path, version: secret.currentVersion },
    }));
  });
  return { id: secret.id, path: input.path, type: (secret.versions[0]?.type ?? "generic") as SecretType, version: secret.currentVersion };
}
