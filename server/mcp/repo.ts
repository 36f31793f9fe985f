import type { Db } from "../db";
import { hotSql } from "../db/hot";
import { GenerationCache } from "../db/invalidation";

const ORG_VAULT_EXISTS = `SELECT id AS "id" FROM "Vault" WHERE id = $1 AND "orgId" = $2`;

/**
 * A vault found is held like the principal lookups' rows (server/db/invalidation.ts): until the next
 * write to a watched table on any instance, or 30 s. Deleting a vault is such a write: on this
 * instance the adapter's `DELETE FROM "Vault"` bumps the generation (Vault is a cascading table), and on
 * PostgreSQL its cascade to Policy runs Policy's statement trigger — even when the vault had no
 * policies — whose NOTIFY reaches every other instance at commit. A vault not found is not held.
 */
const vaultCache = new GenerationCache<true | undefined>();

/**
 * Whether vault `id` exists and is `orgId`'s: the check every hosted MCP request makes (server/api/mcp.ts),
 * on the driver (server/db/hot.ts, one indexed SELECT prepared once). Profiled under the bench's MCP row
 * the SELECT was ≈ 5 % of a `tools/call`'s CPU, so a vault found is cached as above: a vault deleted
 * mid-session is still refused on the session's next request, on every instance sharing the database.
 */
export async function orgVaultExists(db: Db, orgId: string, id: string): Promise<boolean> {
  const found = await vaultCache.get(db, `${orgId}\0${id}`, async () => ((await hotSql(db).get("mcp.orgVault", ORG_VAULT_EXISTS, [id, orgId])) !== undefined ? true : undefined));
  return found === true;
}
