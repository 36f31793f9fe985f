import { type AtOnce, thenAtOnce } from "../../lib/at-once";
import { StatementAppend } from "../audit/repo";
import type { Db, Dialect, Tx } from "../db";
import { type HotRow, type HotTx, hotSql, jsonLiteral, type Opening } from "../db/hot";
import { batchPerClient, ReadBatch } from "../db/read-batch";
import { toBool, toBytes, toDate, toInt } from "../db/values";
import { type CmekRow, type CmekState, cmekStateOf } from "../cmek/state";

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

// A read's joins, for one (org, vault, path, version) given as SQL expressions: the vault (when it is
// the org's), the secret at the path, and the version asked for.
const readOne = (org: string, vault: string, path: string, version: string) => `SELECT ${READ_COLUMNS}
  FROM "Vault" v
  LEFT JOIN "Secret" s ON s."vaultId" = v.id AND s.path = ${path}
  LEFT JOIN "SecretVersion" sv ON sv."secretId" = s.id AND sv.version = ${version}
  WHERE v.id = ${vault} AND v."orgId" = ${org}`;

const READ_CURRENT = readOne("$1", "$2", "$3", `s."currentVersion"`);
const READ_VERSION = readOne("$1", "$2", "$3", "$4");

// PostgreSQL: the reads of one turn of the event loop in one statement (./read-batch's ReadBatch). Each
// element runs the single read's joins as a LATERAL subquery, so every one is the same index lookups
// whatever the batch's size; `n` is the element's position, and an element whose vault is not the
// org's has no row. The arrays reach `unnest` through a subquery the planner keeps (OFFSET 0), so it
// estimates ten elements whatever their number: a custom plan then looks no cheaper than the generic
// one, and the prepared statement keeps its generic plan instead of being planned on every execution
// (which cost more than running it: docs/perf/README.md, tests/db/generic-plans.test.ts).
export const READ_MANY = `SELECT q.n AS "n", r.*
  FROM (SELECT $1::text[] AS o, $2::text[] AS v, $3::text[] AS p, $4::int[] AS ver OFFSET 0) AS a
  CROSS JOIN LATERAL unnest(a.o, a.v, a.p, a.ver) WITH ORDINALITY AS q("orgId", "vaultId", path, version, n)
  CROSS JOIN LATERAL (${readOne(`q."orgId"`, `q."vaultId"`, "q.path", `COALESCE(q.version, s."currentVersion")`)}) AS r`;

type ReadKey = { orgId: string; vaultId: string; path: string; version: number | null };

/** Per database client: the secret reads of the current turn (PostgreSQL), one READ_MANY for all. */
const readBatch = batchPerClient(
  (db: Db) =>
    new ReadBatch<ReadKey, SecretForRead | null>(async (keys) => {
      const col = <F extends keyof ReadKey>(f: F) => keys.map((k) => k[f]);
      const rows = await hotSql(db).all("secrets.readMany", READ_MANY, [col("orgId"), col("vaultId"), col("path"), col("version")]);
      const found: (SecretForRead | null)[] = keys.map(() => null);
      for (const r of rows) found[toInt(r.n) - 1] = readRowFrom(r);
      return found;
    }),
);

/**
 * One SELECT for a read, on the driver (server/db/hot.ts): the vault (always, when it is the caller's
 * org's — so access can be decided before existence is revealed), the secret at `path` and its current
 * version, or `version` if given. On PostgreSQL the reads of one turn of the event loop share one
 * statement (READ_MANY); SQLite's are synchronous calls in process, which a batch would not make cheaper,
 * answered at once (the row, no promise) on open connections. Called from async functions only: a
 * failure SQLite throws becomes their rejection.
 */
export function findSecretForRead(db: Db, orgId: string, vaultId: string, path: string, version?: number): AtOnce<SecretForRead | null> {
  const sql = hotSql(db);
  if (sql.dialect === "postgres") return readBatch(db).load({ orgId, vaultId, path, version: version ?? null });
  const rows =
    version === undefined
      ? sql.rowsAtOnce("secrets.read", READ_CURRENT, [orgId, vaultId, path])
      : sql.rowsAtOnce("secrets.readVersion", READ_VERSION, [orgId, vaultId, path, version]);
  return thenAtOnce(rows, (r) => readRowFrom(r[0]));
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

export type OrgVaultRow = {
  id: string;
  orgId: string;
  name: string;
  description: string;
  createdBy: string;
  createdByType: string;
  wrappedKey: Uint8Array;
  masterKeyVersion: number;
  cmekEnabled: boolean;
  cmekFingerprint: string | null;
  cmekRotationJobId: string | null;
  isSystem: boolean;
  createdAt: Date;
};

const ORG_VAULT = `SELECT id AS "id", "orgId" AS "orgId", name AS "name", description AS "description", "createdBy" AS "createdBy",
       "createdByType" AS "createdByType", "wrappedKey" AS "wrappedKey", "masterKeyVersion" AS "masterKeyVersion", "cmekEnabled" AS "cmekEnabled",
       "cmekFingerprint" AS "cmekFingerprint", "cmekRotationJobId" AS "cmekRotationJobId", "isSystem" AS "isSystem", "createdAt" AS "createdAt"
  FROM "Vault" WHERE id = $1 AND "orgId" = $2`;

/** Per database client: the write path's vault reads of the current turn, equal (vault, org) pairs sharing one SELECT. */
const vaultReads = batchPerClient(
  (db: Db) =>
    new ReadBatch<{ orgId: string; id: string }, OrgVaultRow | null>((keys) => Promise.all(keys.map((k) => readOrgVault(db, k.orgId, k.id))), {
      keyOf: (k) => `${k.id}\u0000${k.orgId}`,
    }),
);

/**
 * The vault `id` if it is `orgId`'s (committed data, on the driver): what the write path loads before its
 * checks. The writes that ask for the same (vault, org) within one turn of the event loop share one
 * SELECT, sent at the next turn (./read-batch's ReadBatch) — after every one of them asked, so none is
 * answered with a row older than its own request (a read already sent is never joined). Each caller
 * gets its own copy.
 */
export async function findOrgVault(db: Db, orgId: string, id: string): Promise<OrgVaultRow | null> {
  const v = await vaultReads(db).load({ orgId, id });
  return v ? { ...v, wrappedKey: Buffer.from(v.wrappedKey) } : null;
}

async function readOrgVault(db: Db, orgId: string, id: string): Promise<OrgVaultRow | null> {
  const r = await hotSql(db).get("secrets.orgVault", ORG_VAULT, [id, orgId]);
  if (!r) return null;
  return {
    id: String(r.id),
    orgId: String(r.orgId),
    name: String(r.name),
    description: String(r.description),
    createdBy: String(r.createdBy),
    createdByType: String(r.createdByType),
    wrappedKey: toBytes(r.wrappedKey),
    masterKeyVersion: toInt(r.masterKeyVersion),
    cmekEnabled: toBool(r.cmekEnabled),
    cmekFingerprint: r.cmekFingerprint == null ? null : String(r.cmekFingerprint),
    cmekRotationJobId: r.cmekRotationJobId == null ? null : String(r.cmekRotationJobId),
    isSystem: toBool(r.isSystem),
    createdAt: toDate(r.createdAt)!,
  };
}

/** A path's advisory lock (PostgreSQL), the same for Prisma's transactions and the driver's. */
const pathLockKey = (vaultId: string, path: string) => `talon.secret:${vaultId}:${path}`;

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
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${pathLockKey(vaultId, path)}, 0))`;
  } else {
    await tx.$executeRaw`UPDATE "Secret" SET "currentVersion" = "currentVersion" WHERE 0`;
  }
}

export type CurrentSecretRow = { id: string; currentVersion: number; deletedAt: Date | null; rotationPolicy: string | null; type: string | null; metadata: string | null };

// currentVersion is the latest version: only a new version moves it, always to n + 1.
const CURRENT_FOR_WRITE = `SELECT s.id AS "id", s."currentVersion" AS "currentVersion", s."deletedAt" AS "deletedAt", s."rotationPolicy" AS "rotationPolicy",
       sv.type AS "type", sv.metadata AS "metadata"
  FROM "Secret" s
  LEFT JOIN "SecretVersion" sv ON sv."secretId" = s.id AND sv.version = s."currentVersion"
  WHERE s."vaultId" = $1 AND s.path = $2`;

/** The secret at `path` and its latest version's type and metadata, inside the write's transaction (after its path lock). */
export async function findCurrentForWrite(tx: HotTx, vaultId: string, path: string): Promise<CurrentSecretRow | null> {
  const r = await tx.get("secrets.currentForWrite", CURRENT_FOR_WRITE, [vaultId, path]);
  return r ? currentFrom(r) : null;
}

function currentFrom(r: Raw): CurrentSecretRow {
  return {
    id: String(r.id),
    currentVersion: toInt(r.currentVersion),
    deletedAt: toDate(r.deletedAt),
    rotationPolicy: r.rotationPolicy == null ? null : String(r.rotationPolicy),
    type: r.type == null ? null : String(r.type),
    metadata: r.metadata == null ? null : String(r.metadata),
  };
}

// A PostgreSQL write batch's path locks, heads and vaults' CMEK state (the talon_secret_lock_heads
// migration), as its transaction's opening statement: $J is a jsonLiteral of [keys, vault ids, paths, vault
// ids of the CMEK reads], unpacked in order.
const LOCK_AND_READ_FOR_WRITE = `SELECT h."vaultId" AS "vaultId", h.path AS "path", h.id AS "id", h."currentVersion" AS "currentVersion",
       h."deletedAt" AS "deletedAt", h."rotationPolicy" AS "rotationPolicy", h.type AS "type", h.metadata AS "metadata",
       h."cmekEnabled" AS "cmekEnabled", h."cmekFingerprint" AS "cmekFingerprint", h."cmekRotationJobId" AS "cmekRotationJobId"
  FROM (SELECT $J AS j) AS a,
       talon_secret_lock_heads(${[0, 1, 2, 3].map((i) => `ARRAY(SELECT e FROM json_array_elements_text(a.j->${i}) WITH ORDINALITY AS t(e, n) ORDER BY n)`).join(", ")}) AS h`;

/** The key of a (vault, path) in the maps below: a path never holds a NUL. */
export const secretPathKey = (vaultId: string, path: string) => `${vaultId}\u0000${path}`;

export type ReadForWrite = { heads: Map<string, CurrentSecretRow>; cmek: Map<string, CmekState> };

/**
 * A PostgreSQL write batch's first statement, sent with its BEGIN (HotSql.transaction's `opening`): the
 * lock of every path (as lockSecretPath's, distinct, in the order of their hashes, so two batches or two
 * instances cannot deadlock on them), then, read after the locks are held, findCurrentForWrite of every
 * path and readCmekState of each of `vaultIds` (the vault rows share-locked until the batch commits).
 * `read` turns its rows into the heads (keyed by secretPathKey; a path with no secret row is absent) and
 * the CMEK states (a vault with no row is null). On SQLite the batch's transaction began IMMEDIATE, so it
 * already holds the write lock, and a read costs no round trip: the batch reads each when asked.
 */
export function lockAndReadForWrite(paths: readonly { vaultId: string; path: string }[], vaultIds: readonly string[]): { opening: Opening; read(rows: readonly HotRow[]): ReadForWrite } {
  const keys = [...new Map(paths.map((p) => [secretPathKey(p.vaultId, p.path), p])).values()];
  const values = [keys.map((p) => pathLockKey(p.vaultId, p.path)), keys.map((p) => p.vaultId), keys.map((p) => p.path), vaultIds];
  return {
    opening: { name: "secrets.lockAndReadForWrite", sql: LOCK_AND_READ_FOR_WRITE.replace("$J", () => jsonLiteral(values)) },
    read(rows) {
      const heads = new Map<string, CurrentSecretRow>();
      const cmek = new Map<string, CmekState>(vaultIds.map((id) => [id, null]));
      for (const r of rows) {
        if (r.path == null) cmek.set(String(r.vaultId), cmekStateOf(r as unknown as CmekRow));
        else heads.set(secretPathKey(String(r.vaultId), String(r.path)), currentFrom(r));
      }
      return { heads, cmek };
    },
  };
}

export type RotationColumns = { rotationPolicy: string | null; rotationDueAt: Date | null; rotationNotifiedAt: null };

const INSERT_SECRET = `INSERT INTO "Secret" (id, "vaultId", path, "currentVersion", "deletedAt", "rotationPolicy", "rotationDueAt", "rotationNotifiedAt", "createdAt", "updatedAt")
  VALUES ($1, $2, $3, $4, NULL, $5, $6, NULL, $7, $7)`;
const UPDATE_SECRET = `UPDATE "Secret" SET "currentVersion" = $2, "deletedAt" = NULL, "rotationPolicy" = $3, "rotationDueAt" = $4, "rotationNotifiedAt" = NULL, "updatedAt" = $5
  WHERE id = $1`;

export type SecretHeadWrite = { id: string; vaultId: string; path: string; version: number; exists: boolean; rotation: RotationColumns; at: Date };

/** The secret row of a new version: created, or moved to `version` (and live again, with the rotation columns the version leaves). */
export async function saveSecretHead(tx: HotTx, s: SecretHeadWrite): Promise<void> {
  if (s.exists) {
    await tx.run("secrets.updateHead", UPDATE_SECRET, [s.id, s.version, s.rotation.rotationPolicy, s.rotation.rotationDueAt, s.at]);
  } else {
    await tx.run("secrets.insertHead", INSERT_SECRET, [s.id, s.vaultId, s.path, s.version, s.rotation.rotationPolicy, s.rotation.rotationDueAt, s.at]);
  }
}

/** A version row as the write batch inserts it (a new version is never disabled and has no reads yet). */
export type NewVersionRow = Omit<SecretVersionRow, "accessCount" | "isDisabled"> & { secretId: string };

const INSERT_VERSION = `INSERT INTO "SecretVersion" (id, "secretId", version, type, ciphertext, metadata, "expiresAt", "maxAccessCount", "accessCount", "isDisabled", "cmekFingerprint", "createdBy", "createdAt")
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11, $12)`;

export async function insertSecretVersion(tx: HotTx, v: NewVersionRow): Promise<void> {
  await tx.run("secrets.insertVersion", INSERT_VERSION, [
    v.id, v.secretId, v.version, v.type, v.ciphertext, v.metadata, v.expiresAt, v.maxAccessCount, false, v.cmekFingerprint, v.createdBy, v.createdAt,
  ]);
}

// timestamp(3) without time zone holds UTC; an ISO string's zone is ignored on input, leaving UTC (pg would
// write a Date inside an array in local time: server/db/hot.ts converts top-level Dates only).
const iso = (d: Date | null) => (d === null ? null : d.toISOString());

// A write batch's new secret rows ($1–$7), moved ones ($8–$12) and versions ($13–$23), each an `unnest`,
// then its audit events chained and appended by talon_audit_chain from $24 (server/audit/repo.ts's
// StatementAppend: the chain's locks, heads and insert; a correlated subquery: it runs after the WITH's
// counts, so after every write of the statement, as a statement sent next would).
const WRITE_VERSIONS = (append: boolean) => `WITH ins AS (
    INSERT INTO "Secret" (id, "vaultId", path, "currentVersion", "deletedAt", "rotationPolicy", "rotationDueAt", "rotationNotifiedAt", "createdAt", "updatedAt")
    SELECT id, vid, p, v, NULL, rp, rd, NULL, at, at
    FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::timestamp(3)[], $7::timestamp(3)[]) AS u(id, vid, p, v, rp, rd, at)
    RETURNING 1
  ), upd AS (
    UPDATE "Secret" AS s SET "currentVersion" = u.v, "deletedAt" = NULL, "rotationPolicy" = u.rp, "rotationDueAt" = u.rd, "rotationNotifiedAt" = NULL, "updatedAt" = u.at
    FROM unnest($8::text[], $9::int[], $10::text[], $11::timestamp(3)[], $12::timestamp(3)[]) AS u(id, v, rp, rd, at)
    WHERE s.id = u.id
    RETURNING 1
  ), ver AS (
    INSERT INTO "SecretVersion" (id, "secretId", version, type, ciphertext, metadata, "expiresAt", "maxAccessCount", "accessCount", "isDisabled", "cmekFingerprint", "createdBy", "createdAt")
    SELECT id, sid, v, t, c, m, e, mx, 0, false, f, cb, ca
    FROM unnest($13::text[], $14::text[], $15::int[], $16::text[], $17::bytea[], $18::text[], $19::timestamp(3)[], $20::int[], $21::text[], $22::text[], $23::timestamp(3)[])
      AS u(id, sid, v, t, c, m, e, mx, f, cb, ca)
    RETURNING 1
  ), written AS (
    SELECT (SELECT count(*) FROM upd)::int AS updated, (SELECT count(*) FROM ins) + (SELECT count(*) FROM ver) AS added
  )
  SELECT w.updated AS "updated"${
    append
      ? `,
         (SELECT coalesce(json_agg(json_build_array(c.kind, c.id, c."orgId", c.seq, c."prevHash", c.hash, c.events)), '[]'::json)
            FROM ${StatementAppend.call(24)} AS c WHERE w.added >= 0) AS "appended"`
      : ""
  }
  FROM written w`;
export const WRITE_VERSIONS_ONLY = WRITE_VERSIONS(false);
const WRITE_VERSIONS_APPENDING = WRITE_VERSIONS(true);

/**
 * A write batch's secret rows (created, or moved to their new version: at most one per secret id, as an
 * UPDATE … FROM cannot apply two rows to one) and their versions. PostgreSQL: one statement, each an
 * `unnest` in a data-modifying WITH (the versions' foreign keys are checked at its end, when the new
 * secret rows are there), which then makes `append` (its events chained and inserted under the chain's
 * locks) and resolves with what that answered, for `append.finish`; SQLite: one prepared statement per
 * row, secret rows first, resolving with null (its chain needs no lock of its own: append separately).
 */
export async function writeSecretVersions(
  tx: HotTx,
  heads: readonly SecretHeadWrite[],
  rows: readonly NewVersionRow[],
  append?: StatementAppend,
): Promise<unknown[][] | null> {
  if (tx.dialect === "sqlite") {
    for (const h of heads) await saveSecretHead(tx, h);
    for (const v of rows) await insertSecretVersion(tx, v);
    return null;
  }
  const created = heads.filter((h) => !h.exists);
  const moved = heads.filter((h) => h.exists);
  const col = <K extends keyof NewVersionRow>(k: K) => rows.map((r) => r[k]);
  const r = await tx.get(append ? "secrets.writeVersionsAppending" : "secrets.writeVersions", append ? WRITE_VERSIONS_APPENDING : WRITE_VERSIONS_ONLY, [
    created.map((h) => h.id), created.map((h) => h.vaultId), created.map((h) => h.path), created.map((h) => h.version),
    created.map((h) => h.rotation.rotationPolicy), created.map((h) => iso(h.rotation.rotationDueAt)), created.map((h) => iso(h.at)),
    moved.map((h) => h.id), moved.map((h) => h.version), moved.map((h) => h.rotation.rotationPolicy),
    moved.map((h) => iso(h.rotation.rotationDueAt)), moved.map((h) => iso(h.at)),
    col("id"), col("secretId"), col("version"), col("type"), col("ciphertext"), col("metadata"), rows.map((v) => iso(v.expiresAt)),
    col("maxAccessCount"), col("cmekFingerprint"), col("createdBy"), rows.map((v) => iso(v.createdAt)),
    ...(append?.params ?? []),
  ]);
  const n = Number(r?.updated ?? 0);
  // Each was read under its path lock; a row gone since is a broken batch, never a silently lost head.
  if (n !== moved.length) throw new Error(`Secret head update changed ${n} of ${moved.length} rows`);
  if (!append) return null;
  return (typeof r?.appended === "string" ? JSON.parse(r.appended) : r?.appended) as unknown[][];
}

/** A unique-constraint violation (Prisma P2002), whichever database raised it. */
export function isUniqueViolation(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === "P2002";
}
