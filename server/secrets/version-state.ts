import type { SecretRow, SecretSummary } from "../../lib/contract/secrets";
import type { Ctx } from "../http/principal";

/**
 * Adds to listed secrets (already access-filtered by `listSecrets`) their current version's read
 * count and disabled flag, which the listing contract leaves out: one query over just these versions.
 */
export async function withCurrentVersionState(ctx: Ctx, vaultId: string, secrets: SecretSummary[]): Promise<SecretRow[]> {
  if (secrets.length === 0) return [];
  const rows = await ctx.rt.db.secretVersion.findMany({
    where: { secret: { vaultId, deletedAt: null }, OR: secrets.map((s) => ({ secretId: s.id, version: s.version })) },
    select: { secretId: true, accessCount: true, isDisabled: true },
  });
  const state = new Map(rows.map((r) => [r.secretId, r]));
  return secrets.map((s) => ({ ...s, access_count: state.get(s.id)?.accessCount ?? 0, disabled: state.get(s.id)?.isDisabled ?? false }));
}
