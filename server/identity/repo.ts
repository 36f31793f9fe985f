import type { AtOnce } from "../../lib/at-once";
import type { Db } from "../db";
import { type HotRow, hotSql } from "../db/hot";
import { GenerationCache } from "../db/invalidation";

/**
 * The principal lookups every authenticated request makes, on the driver (server/db/hot.ts): one
 * indexed SELECT each, prepared once. A JWT's query reads the principal's current state *and* the
 * revocation denylist together (a LEFT JOIN on the token's jti), so a revoked token or a bumped token
 * version fails on the next request at every instance sharing the database. Values come back as the
 * driver gives them (see hot.ts); authenticate.ts reads them through its tolerant helpers.
 *
 * Rows found are cached (shared, read-only) until the next write to a table these queries read, on any
 * instance (server/db/invalidation.ts), or 30 s; a lookup that found nothing is not cached. Expiry
 * times stay in the row and are compared with the clock on every request by the caller.
 */

const agentJwtCache = new GenerationCache<HotRow | undefined>();
const userJwtCache = new GenerationCache<HotRow | undefined>();
const personalKeyCache = new GenerationCache<HotRow | undefined>();
const agentKeyCache = new GenerationCache<HotRow | undefined>();

const AGENT_JWT = `SELECT a."orgId" AS "orgId", a."isActive" AS "isActive", a."expiresAt" AS "expiresAt", a."tokenVersion" AS "tokenVersion",
       a."createdBy" AS "createdBy", a."lastActiveAt" AS "lastActiveAt", r."jti" AS "revoked"
  FROM "Agent" a
  LEFT JOIN "RevokedToken" r ON r."jti" = $2
  WHERE a."id" = $1`;

/** A cached row, at once; or the promise of the query's (GenerationCache.lookup). */
type Found = AtOnce<HotRow | undefined>;

export function agentForJwt(db: Db, agentId: string, jti: string): Found {
  return agentJwtCache.lookup(db, `${agentId}\0${jti}`, async () => (await hotSql(db).all("auth.agentJwt", AGENT_JWT, [agentId, jti]))[0]);
}

const USER_JWT = `SELECT u."orgId" AS "orgId", u."role" AS "role", u."tokenVersion" AS "tokenVersion", r."jti" AS "revoked",
       k."userId" AS "keyUserId", k."isActive" AS "keyActive", k."expiresAt" AS "keyExpiresAt", k."scopes" AS "keyScopes"
  FROM "User" u
  LEFT JOIN "RevokedToken" r ON r."jti" = $2
  LEFT JOIN "ApiKey" k ON k."id" = $3
  WHERE u."id" = $1`;

/** `akid` "" when the token was not minted from a personal key (no key row then matches). */
export function userForJwt(db: Db, userId: string, jti: string, akid: string): Found {
  return userJwtCache.lookup(db, `${userId}\0${jti}\0${akid}`, async () => (await hotSql(db).all("auth.userJwt", USER_JWT, [userId, jti, akid]))[0]);
}

const PERSONAL_KEY = `SELECT k."id" AS "id", k."orgId" AS "orgId", k."userId" AS "userId", k."keyHash" AS "keyHash", k."scopes" AS "scopes",
       k."isActive" AS "isActive", k."expiresAt" AS "expiresAt", k."lastUsedAt" AS "lastUsedAt", u."role" AS "role", u."orgId" AS "userOrgId"
  FROM "ApiKey" k JOIN "User" u ON u."id" = k."userId"
  WHERE k."keyPrefix" = $1`;

export function personalKeyByPrefix(db: Db, keyPrefix: string): Found {
  return personalKeyCache.lookup(db, keyPrefix, async () => (await hotSql(db).all("auth.personalKey", PERSONAL_KEY, [keyPrefix]))[0]);
}

const AGENT_KEY = `SELECT a."id" AS "id", a."orgId" AS "orgId", a."keyHash" AS "keyHash", a."authMethod" AS "authMethod", a."isActive" AS "isActive",
       a."expiresAt" AS "expiresAt", a."lastActiveAt" AS "lastActiveAt", a."createdBy" AS "createdBy", a."scopes" AS "scopes",
       a."vaultIds" AS "vaultIds", a."cryptoProxyEnabled" AS "cryptoProxyEnabled"
  FROM "Agent" a
  WHERE a."keyPrefix" = $1`;

export function agentByKeyPrefix(db: Db, keyPrefix: string): Found {
  return agentKeyCache.lookup(db, keyPrefix, async () => (await hotSql(db).all("auth.agentKey", AGENT_KEY, [keyPrefix]))[0]);
}
