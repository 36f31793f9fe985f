import type { ScheduledRotation } from "../../lib/contract/secrets";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { filterReadable, filterVisibleVaults } from "./access";
import { parseRotationPolicy } from "./rotation";

const LIST_MAX = 500;

/**
 * Every live secret with a rotation policy across the org's vaults the caller can see, soonest due
 * first (overdue ones at the top), under the same rules as a vault's secret list: the vault must be
 * visible and the path readable or usable. Paths and dates only, never a value.
 */
export async function listScheduledRotations(ctx: Ctx, now = Date.now()): Promise<{ secrets: ScheduledRotation[]; truncated: boolean }> {
  const vaults = await filterVisibleVaults(ctx, await ctx.rt.db.vault.findMany({ where: { orgId: ctx.principal.orgId, isSystem: false }, omit: { wrappedKey: true } }));
  if (vaults.length === 0) return { secrets: [], truncated: false };
  const rows = await ctx.rt.db.secret.findMany({
    where: { vaultId: { in: vaults.map((v) => v.id) }, deletedAt: null, rotationPolicy: { not: null } },
    select: { id: true, vaultId: true, path: true, currentVersion: true, rotationPolicy: true, rotationDueAt: true },
    orderBy: [{ rotationDueAt: "asc" }, { path: "asc" }],
    take: LIST_MAX + 1,
  });
  const out: ScheduledRotation[] = [];
  for (const vault of vaults) {
    const inVault = rows.slice(0, LIST_MAX).filter((r) => r.vaultId === vault.id);
    if (inVault.length === 0) continue;
    let readable: typeof inVault;
    try {
      readable = await filterReadable(ctx, vault, inVault);
    } catch (e) {
      // A visible vault where the caller may read no path at all lists nothing from it.
      if (e instanceof ApiError && e.status === 403) continue;
      throw e;
    }
    for (const r of readable) {
      const policy = parseRotationPolicy(r.rotationPolicy);
      if (!policy) continue;
      out.push({
        secret_id: r.id,
        vault_id: vault.id,
        vault_name: vault.name,
        path: r.path,
        version: r.currentVersion,
        rotation_policy: policy,
        rotation_due_at: r.rotationDueAt?.toISOString() ?? null,
        rotation_due: r.rotationDueAt !== null && r.rotationDueAt.getTime() <= now,
      });
    }
  }
  out.sort((a, b) => (a.rotation_due_at ?? "").localeCompare(b.rotation_due_at ?? "") || a.path.localeCompare(b.path));
  return { secrets: out, truncated: rows.length > LIST_MAX };
}
