import type { AtOnce } from "../../lib/at-once";
import type { Db } from "../db";
import { hotSql } from "../db/hot";
import { GenerationCache } from "../db/invalidation";
import { toDate, toStringOrNull } from "../db/values";

/** A policy row as the access decision reads it (server/access/evaluate.ts turns it into a rule). */
export type PolicyRow = {
  vaultId: string;
  secretPathPattern: string;
  permissions: string;
  conditions: string;
  effect: string;
  expiresAt: Date | null;
  approval: string | null;
};

const ON_VAULT = `SELECT p."vaultId" AS "vaultId", p."secretPathPattern" AS "secretPathPattern", p."permissions" AS "permissions",
       p."conditions" AS "conditions", p."effect" AS "effect", p."expiresAt" AS "expiresAt", p."approval" AS "approval"
  FROM "Policy" p
  WHERE p."orgId" = $1 AND p."principalType" = $2 AND p."principalId" = $3 AND p."vaultId" = $4`;

/**
 * The principal's policies on one vault: one indexed SELECT on the driver, prepared once. Cached (the
 * list is shared: read-only) until the next write to Policy on any instance, or 30 s
 * (server/db/invalidation.ts); an empty list is cached the same way. A cached list is answered at once,
 * a load as a promise. `expiresAt` is compared by the caller.
 */
export function policiesForPrincipalOnVault(
  db: Db,
  p: { orgId: string; principalType: string; principalId: string },
  vaultId: string,
): AtOnce<readonly PolicyRow[]> {
  return policyCache.lookup(db, `${p.orgId}\0${p.principalType}\0${p.principalId}\0${vaultId}`, () => load(db, p, vaultId));
}

const policyCache = new GenerationCache<readonly PolicyRow[]>();

async function load(db: Db, p: { orgId: string; principalType: string; principalId: string }, vaultId: string): Promise<PolicyRow[]> {
  const rows = await hotSql(db).all("access.policiesOnVault", ON_VAULT, [p.orgId, p.principalType, p.principalId, vaultId]);
  return rows.map((r) => ({
    vaultId: String(r.vaultId),
    secretPathPattern: String(r.secretPathPattern),
    permissions: String(r.permissions),
    conditions: String(r.conditions),
    effect: String(r.effect),
    expiresAt: toDate(r.expiresAt),
    approval: toStringOrNull(r.approval),
  }));
}
