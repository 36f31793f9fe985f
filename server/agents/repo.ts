import type { Db } from "../db";
import { type HotRow, hotSql } from "../db/hot";
import { toBool, toDate, toInt, toIntOrNull, toStringOrNull } from "../db/values";

/**
 * The agent-token exchange's reads (POST /v1/auth/agent-token), on the driver (server/db/hot.ts): one
 * indexed SELECT for the agent, by id or by its key's non-secret prefix, and one for what its derived
 * scopes are made of. Rows are normalised here (the drivers differ, see server/db/values.ts).
 */
export type AgentForExchange = {
  id: string;
  orgId: string;
  authMethod: string;
  keyHash: string | null;
  clientCertFingerprint: string | null;
  oidcIssuer: string | null;
  oidcClientId: string | null;
  isActive: boolean;
  expiresAt: Date | null;
  /** JSON arrays (text), as stored. */
  scopes: string;
  vaultIds: string;
  tokenTtlSeconds: number | null;
  cryptoProxyEnabled: boolean;
  tokenVersion: number;
  lastActiveAt: Date | null;
};

const EXCHANGE_COLUMNS = `a."id" AS "id", a."orgId" AS "orgId", a."authMethod" AS "authMethod", a."keyHash" AS "keyHash",
       a."clientCertFingerprint" AS "clientCertFingerprint", a."oidcIssuer" AS "oidcIssuer", a."oidcClientId" AS "oidcClientId",
       a."isActive" AS "isActive", a."expiresAt" AS "expiresAt", a."scopes" AS "scopes", a."vaultIds" AS "vaultIds",
       a."tokenTtlSeconds" AS "tokenTtlSeconds", a."cryptoProxyEnabled" AS "cryptoProxyEnabled", a."tokenVersion" AS "tokenVersion",
       a."lastActiveAt" AS "lastActiveAt"`;

const BY_ID = `SELECT ${EXCHANGE_COLUMNS} FROM "Agent" a WHERE a."id" = $1`;
const BY_KEY_PREFIX = `SELECT ${EXCHANGE_COLUMNS} FROM "Agent" a WHERE a."keyPrefix" = $1`;

function exchangeRowFrom(r: HotRow | undefined): AgentForExchange | null {
  if (!r) return null;
  return {
    id: String(r.id),
    orgId: String(r.orgId),
    authMethod: String(r.authMethod),
    keyHash: toStringOrNull(r.keyHash),
    clientCertFingerprint: toStringOrNull(r.clientCertFingerprint),
    oidcIssuer: toStringOrNull(r.oidcIssuer),
    oidcClientId: toStringOrNull(r.oidcClientId),
    isActive: toBool(r.isActive),
    expiresAt: toDate(r.expiresAt),
    scopes: String(r.scopes),
    vaultIds: String(r.vaultIds),
    tokenTtlSeconds: toIntOrNull(r.tokenTtlSeconds),
    cryptoProxyEnabled: toBool(r.cryptoProxyEnabled),
    tokenVersion: toInt(r.tokenVersion),
    lastActiveAt: toDate(r.lastActiveAt),
  };
}

/** The agent a credential names: by id, or (an `ocv_` key alone) by the key's prefix. One statement either way. */
export async function agentForExchange(db: Db, by: { id: string } | { keyPrefix: string }): Promise<AgentForExchange | null> {
  const sql = hotSql(db);
  const row = "id" in by ? await sql.get("agents.exchangeById", BY_ID, [by.id]) : await sql.get("agents.exchangeByKeyPrefix", BY_KEY_PREFIX, [by.keyPrefix]);
  return exchangeRowFrom(row);
}

// The agent's allow policies (expiry compared by the caller, so no timestamp parameter is needed on
// either driver), and one extra row when it created a vault.
const SCOPE_SOURCES = `SELECT p."secretPathPattern" AS "pattern", p."expiresAt" AS "expiresAt", 0 AS "ownVault"
  FROM "Policy" p
  WHERE p."principalType" = 'agent' AND p."principalId" = $1 AND p."effect" = 'allow'
  UNION ALL
  SELECT NULL, NULL, 1 WHERE EXISTS (SELECT 1 FROM "Vault" v WHERE v."createdBy" = $1 AND v."createdByType" = 'agent')`;

export type AgentScopeSources = { ownsVault: boolean; allowPatterns: { pattern: string; expiresAt: Date | null }[] };

/** What an agent's derived scopes are made of (server/access/scopes.ts): one statement. */
export async function agentScopeSources(db: Db, agentId: string): Promise<AgentScopeSources> {
  const rows = await hotSql(db).all("agents.scopeSources", SCOPE_SOURCES, [agentId]);
  const out: AgentScopeSources = { ownsVault: false, allowPatterns: [] };
  for (const r of rows) {
    if (toInt(r.ownVault) === 1) out.ownsVault = true;
    else out.allowPatterns.push({ pattern: String(r.pattern), expiresAt: toDate(r.expiresAt) });
  }
  return out;
}
