import type { Db } from "../db";
import { hotSql } from "../db/hot";

const ORG_VAULT_EXISTS = `SELECT id AS "id" FROM "Vault" WHERE id = $1 AND "orgId" = $2`;

/**
 * Whether vault `id` exists and is `orgId`'s: the check every hosted MCP request makes (server/api/mcp.ts),
 * on the driver (server/db/hot.ts, one indexed SELECT prepared once) and never cached, so a vault deleted
 * mid-session is refused on the session's next request, on every instance sharing the database.
 */
export async function orgVaultExists(db: Db, orgId: string, id: string): Promise<boolean> {
  return (await hotSql(db).get("mcp.orgVault", ORG_VAULT_EXISTS, [id, orgId])) !== undefined;
}
