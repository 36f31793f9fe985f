import type { Db, Dialect, Tx } from "../db";
import { hotSql } from "../db/hot";

/**
 * The raw statements of the secrets hot path. Identifiers are quoted so the same SQL runs on SQLite
 * and PostgreSQL; what the two drivers return differs (SQLite: epoch-ms numbers for DateTime, 0/1 for
 * Boolean; PostgreSQL: Date and boolean), so every row is normalised here before anyone sees it.
 */
export type VaultKeyRow = { id: string; orgId: string; createdBy: string; createdByType: string; wrappedKey: Uint8Array; masterKeyVersion: number };
export type SecretVersionRow = {
  id: string;
  version: number;
  type: string;
  ciphertext: Uint8Array;
  metadata: string;
  expiresAt: Date | null;
  maxAccessCount: number;
  accessCount: number;
  isDisabled: boolean;
  /** The customer key the value is under (CMEK); null = plain. */
  cmekFingerprint: string | null;
  createdBy: string;
  createdAt: Date;
};
export type SecretForRead = {
  vault: VaultKeyRow;
  secret: { id: string; deletedAt: Date | null } | null;
  version: SecretVersionRow | null;
};

type Raw = Record<string, unknown>;

function toDate(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v;
  if (typeof v === "number" || typeof v === "bigint") return new Date(Number(v));
  if (typeof v === "string") return new Date(/^\d+$/.test(v) ? Number(v) : v);
  throw new TypeError("Unexpected DateTime value from the database");
}

const toInt = (v: unknown) => Number(v);
const toBool = (v: unknown) => v === true || v === 1 || v === 1n || v === "1" || v === "true";
function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw new TypeError("Unexpected Bytes value from the database");
}

function versionFrom(r: Raw): SecretVersionRow {
  return {
    id: String(r.versionId),
    version: toInt(r.version),
    type: String(r.type),
    ciphertext: toBytes(r.ciphertext),
    metadata: String(r.metadata),
    expiresAt: toDate(r.expiresAt),
    maxAccessCount: toInt(r.maxAccessCount),
    accessCount: toInt(r.accessCount),
    isDisabled: toBool(r.isDisabled),
    cmekFingerprint: r.cmekFingerprint == null ? null : String(r.cmekFingerprint),
    createdBy: String(r.createdBy),
    createdAt: toDate(r.createdAt)!,
  };
}

function readRowFrom(r: Raw | undefined): SecretForRead | null {
  if (!r) return null;
  return {
    vault: {
      id: String(r.vaultId),
      orgId: String(r.orgId),
      createdBy: String(r.vaultCreatedBy),
      createdByType: String(r.vaultCreatedByType),
      wrappedKey: toBytes(r.wrappedKey),
      masterKeyVersion: toInt(r.masterKeyVersion),
    },
    secret: r.secretId == null ? null : { id: String(r.secretId), deletedAt: toDate(r.deletedAt) },
    version: r.versionId == null ? null : versionFrom(r),
  };
}

const READ_COLUMNS = `v.id AS "vaultId", v."orgId" AS "orgId", v."createdBy" AS "vaultCreatedBy", v."createdByType" AS "vaultCreatedByType",
       v."wrappedKey" AS "wrappedKey", v."masterKeyVersion" AS "masterKeyVersion", s.id AS "secretId", s."deletedAt" AS "deletedAt",
       sv.id AS "versionId", sv.version AS "version", sv.type AS "type", sv.ciphertext AS "ciphertext",
       sv.metadata AS "metadata", sv."expiresAt" AS "expiresAt", sv."maxAccessCount" AS "maxAccessCount",
       sv."accessCount" AS "accessCount", sv."isDisabled" AS "isDisabled", sv."createdBy" AS "createdBy",
       sv."createdAt" AS "createdAt", sv."cmekFingerprint" AS "cmekFingerprint"`;

const READ_CURRENT = `SELECT ${READ_COLUMNS}
  FROM "Vault" v
  LEFT JOIN "Secret" s ON s."vaultId" = v.id AND s.path = $3
  LEFT JOIN "SecretVersion" sv ON sv."secretId" = s.id AND sv.version = s."currentVersion"
  WHERE v.id = $2 AND v."orgId" = $1`;

const READ_VERSION = `SELECT ${READ_COLUMNS}
  FROM "Vault" v
  LEFT JOIN "Secret" s ON s."vaultId" = v.id AND s.path = $3
  LEFT JOIN "SecretVersion" sv ON sv."secretId" = s.id AND sv.version = $4
  WHERE v.id = $2 AND v."orgId" = $1`;

/**
 * One SELECT for a read, on the driver (server/db/hot.ts): the vault (always, when it is the caller's
 * org's — so access can be decided before existence is revealed), the secret at `path` and its current
 * version, or `version` if given.
 */
export async function findSecretForRead(db: Db, orgId: string, vaultId: string, path: string, version?: number): Promise<SecretForRead | null> {
  const sql = hotSql(db);
  const rows =
    version === undefined
      ? await sql.all("secrets.read", READ_CURRENT, [orgId, vaultId, path])
      : await sql.all("secrets.readVersion", READ_VERSION, [orgId, vaultId, path, version]);
  return readRowFrom(rows[0]);
}

const CONSUME_ACCESS = `UPDATE "SecretVersion" SET "accessCount" = "accessCount" + 1
  WHERE id = $1 AND ("maxAccessCount" = 0 OR "accessCount" < "maxAccessCount")`;

/**
 * Counts one read of a limited version. The check and the increment are one conditional statement,
 * so concurrent readers (and other instances on PostgreSQL) can never read past the limit.
 * Returns false when the limit was already reached.
 */
export async function consumeAccess(db: Db, versionId: string): Promise<boolean> {
  return (await hotSql(db).run("secrets.consumeAccess", CONSUME_ACCESS, [versionId])) === 1;
}

export type SecretListRow = {
  id: string;
  path: string;
  version: number;
  type: string;
  metadata: string;
  createdAt: Date;
  expiresAt: Date | null;
  maxAccessCount: number;
};

/** The latest version of every live secret under `prefix`, ordered by path. Never selects a ciphertext. */
export async function listLatestVersions(db: Db, vaultId: string, prefix: string): Promise<SecretListRow[]> {
  // The prefix is validated to [A-Za-z0-9_-/]; `_` is a LIKE wildcard, so it is escaped.
  const pattern = prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + "%";
  const rows = await db.$queryRaw<Raw[]>`
    SELECT s.id AS "id", s.path AS "path", sv.version AS "version", sv.type AS "type", sv.metadata AS "metadata",
           sv."createdAt" AS "createdAt", sv."expiresAt" AS "expiresAt", sv."maxAccessCount" AS "maxAccessCount"
    FROM "Secret" s
    JOIN "SecretVersion" sv ON sv."secretId" = s.id AND sv.version = s."currentVersion"
    WHERE s."vaultId" = ${vaultId} AND s."deletedAt" IS NULL AND s.path LIKE ${pattern} ESCAPE '\\'
    ORDER BY s.path`;
  // SQLite's LIKE ignores ASCII case; paths are case-sensitive, so the match is made exact here.
  return rows.filter((r) => String(r.path).startsWith(prefix)).map((r) => ({
    id: String(r.id),
    path: String(r.path),
    version: toInt(r.version),
    type: String(r.type),
    metadata: String(r.metadata),
    createdAt: toDate(r.createdAt)!,
    expiresAt: toDate(r.expiresAt),
    maxAccessCount: toInt(r.maxAccessCount),
  }));
}

/**
 * Serialises the writers of one secret path for the rest of the caller's transaction. PostgreSQL: a
 * transaction-scoped advisory lock on (vault, path), which holds across instances and also covers a
 * path with no row yet (a `SELECT … FOR UPDATE` has nothing to lock on the first write, and two
 * first writers would meet at the unique index instead). SQLite: the database write lock, taken at
 * once with a no-op write — one writer at a time, and a deferred transaction that read first could
 * otherwise fail to upgrade.
 */
export async function lockSecretPath(tx: Tx, dialect: Dialect, vaultId: string, path: string): Promise<void> {
  if (dialect === "postgres") {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`talon.secret:${vaultId}:${path}`}, 0))`;
  } else {
    await tx.$executeRaw`UPDATE "Secret" SET "currentVersion" = "currentVersion" WHERE 0`;
  }
}

/** A unique-constraint violation (Prisma P2002), whichever database raised it. */
export function isUniqueViolation(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === "P2002";
}
