import type { Tx } from "../db";
import type { HotTx } from "../db/hot";
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
  if (exempt(ctx, kind, opts)) return;
  const orgId = ctx.principal.orgId;
  const rows =
    ctx.rt.dialect === "postgres"
      ? await tx.$queryRaw<{ tier: string }[]>`SELECT "tier" FROM "Org" WHERE "id" = ${orgId} FOR UPDATE`
      : await tx.$queryRaw<{ tier: string }[]>`SELECT "tier" FROM "Org" WHERE "id" = ${orgId}`;
  const plan = tierOf(rows[0]?.tier ?? "free");
  if (plan.tier[`${kind}s` as const] === null) return;
  refuseAtLimit(ctx, kind, plan, await countResources(tx, orgId, kind));
}

const ORG_TIER = `SELECT "tier" AS "tier" FROM "Org" WHERE "id" = $1`;
const ORG_TIER_LOCKED = `${ORG_TIER} FOR UPDATE`;
/** The live resources that count against the plan, as countResources counts them (Talon's `__agent-keys` vault is free). */
const COUNT_SQL: Record<"vault" | "secret", string> = {
  vault: `SELECT COUNT(*) AS "n" FROM "Vault" WHERE "orgId" = $1 AND name <> $2`,
  secret: `SELECT COUNT(*) AS "n" FROM "Secret" s JOIN "Vault" v ON v.id = s."vaultId" WHERE s."deletedAt" IS NULL AND v."orgId" = $1 AND v.name <> $2`,
};

/** As assertResourceLimit, inside a driver transaction (server/db/hot.ts): the same lock, count and refusal. */
export async function assertResourceLimitOn(tx: HotTx, ctx: Ctx, kind: "vault" | "secret", opts: { vaultName?: string } = {}): Promise<void> {
  if (exempt(ctx, kind, opts)) return;
  const orgId = ctx.principal.orgId;
  const org =
    tx.dialect === "postgres" ? await tx.get("limits.orgTierLocked", ORG_TIER_LOCKED, [orgId]) : await tx.get("limits.orgTier", ORG_TIER, [orgId]);
  const plan = tierOf(org?.tier == null ? "free" : String(org.tier));
  if (plan.tier[`${kind}s` as const] === null) return;
  const row = await tx.get(`limits.count.${kind}`, COUNT_SQL[kind], [orgId, AGENT_KEYS_VAULT_NAME]);
  refuseAtLimit(ctx, kind, plan, Number(row?.n ?? 0));
}

function exempt(ctx: Ctx, kind: LimitedResource, opts: { vaultName?: string }): boolean {
  return ctx.rt.config.billing === "off" || (kind !== "agent" && opts.vaultName === AGENT_KEYS_VAULT_NAME);
}

function refuseAtLimit(ctx: Ctx, kind: LimitedResource, plan: ReturnType<typeof tierOf>, used: number): void {
  const limit = plan.tier[`${kind}s` as const];
  if (limit === null || used < limit) return;
  throw ApiError.limit(
    `${LABEL[kind]} limit reached (${used}/${limit} on ${plan.name} tier). Upgrade your plan for more at ${billingUrl(ctx.rt.config.publicUrl)}.`,
  );
}

export async function countResources(db: Pick<Tx, "vault" | "secret" | "agent">, orgId: string, kind: LimitedResource): Promise<number> {
  const notAgentKeys = { not: AGENT_KEYS_VAULT_NAME };
  if (kind === "vault") return db.vault.count({ where: { orgId, name: notAgentKeys } });
  if (kind === "secret") return db.secret.count({ where: { deletedAt: null, vault: { orgId, name: notAgentKeys } } });
  return db.agent.count({ where: { orgId } });
}
