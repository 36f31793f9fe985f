import type { Tx } from "../db";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { AGENT_KEYS_VAULT_NAME, billingUrl, tierOf } from "./tiers";

export type LimitedResource = "vault" | "secret" | "agent";

const LABEL: Record<LimitedResource, string> = { vault: "Vault", secret: "Secret", agent: "Agent" };

/**
 * Plan limits on vaults, secrets and agents. Called as the first statement inside the transaction that
 * creates the resource: on PostgreSQL the Org row is locked (`FOR UPDATE`) until that transaction
 * commits, so concurrent creations in one org queue behind each other and the count + insert cannot
 * overshoot; SQLite transactions are serialised by the driver adapter (one writer). Talon's own
 * `__agent-keys` vault and the SSH keys in it are free. With billing off there are no plan limits.
 */
export async function assertResourceLimit(tx: Tx, ctx: Ctx, kind: LimitedResource, opts: { vaultName?: string } = {}): Promise<void> {
  if (ctx.rt.config.billing === "off") return;
  if (kind !== "agent" && opts.vaultName === AGENT_KEYS_VAULT_NAME) return;
  const orgId = ctx.principal.orgId;
  const rows =
    ctx.rt.dialect === "postgres"
      ? await tx.$queryRaw<{ tier: string }[]>`SELECT "tier" FROM "Org" WHERE "id" = ${orgId} FOR UPDATE`
      : await tx.$queryRaw<{ tier: string }[]>`SELECT "tier" FROM "Org" WHERE "id" = ${orgId}`;
  const { name, tier } = tierOf(rows[0]?.tier ?? "free");
  const limit = tier[`${kind}s` as const];
  if (limit === null) return;
  const used = await countResources(tx, orgId, kind);
  if (used >= limit) {
    throw ApiError.limit(
      `${LABEL[kind]} limit reached (${used}/${limit} on ${name} tier). Upgrade your plan for more at ${billingUrl(ctx.rt.config.publicUrl)}.`,
    );
  }
}

export async function countResources(db: Pick<Tx, "vault" | "secret" | "agent">, orgId: string, kind: LimitedResource): Promise<number> {
  const notAgentKeys = { not: AGENT_KEYS_VAULT_NAME };
  if (kind === "vault") return db.vault.count({ where: { orgId, name: notAgentKeys } });
  if (kind === "secret") return db.secret.count({ where: { deletedAt: null, vault: { orgId, name: notAgentKeys } } });
  return db.agent.count({ where: { orgId } });
}
