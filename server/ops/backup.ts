import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import Database from "better-sqlite3";
import pg from "pg";
import type { Config } from "../config";
import { sqliteFileOf } from "../db/sqlite-owner";
import { masterLabel } from "../keystore/pkcs11";
import { TALON_VERSION } from "../version";
import { BackupFileError, sha256File, writeBackupFile } from "./backup-file";
import { libpqTarget, runTool, toolVersion } from "./database-tools";
import type { BackupManifest, BackupPart, SnapshotFacts } from "./manifest";
import { snapshotFacts } from "./manifest";

/**
 * `npm run backup`: one consistent snapshot of the database while Talon keeps running, in one file
 * with its manifest (./backup-file.ts). SQLite: the online backup API copies the database page by
 * page into a new file (a write elsewhere restarts nothing Talon does: the copy is of one moment).
 * PostgreSQL: one REPEATABLE READ transaction exports its snapshot, the manifest's facts are read in
 * it, and pg_dump dumps that same snapshot (`--snapshot`), so manifest and dump agree exactly.
 *
 * Not in the backup, by design: the HSM token (master keys, the JWT signing key, crypto-proxy keys)
 * and its PIN, or the local keystore's key file. Without them the backup's secrets stay sealed.
 */
export type BackupResult = { manifest: BackupManifest; file: string; bytes: number };

type Snapshot = { facts: SnapshotFacts; parts: { part: Omit<BackupPart, "bytes" | "sha256">; file: string }[]; database: Partial<BackupManifest["database"]> };

async function snapshotSqlite(config: Config, work: string): Promise<Snapshot> {
  const source = sqliteFileOf(config.databaseUrl);
  if (!existsSync(source)) throw new BackupFileError(`No SQLite database at ${source} (DATABASE_URL / TALON_DATA_DIR)`);
  const copy = path.join(work, "talon.db");
  const src = new Database(source, { fileMustExist: true, timeout: 10_000 });
  try {
    await src.backup(copy);
  } finally {
    src.close();
  }
  const snap = new Database(copy, { readonly: true, fileMustExist: true });
  let facts: SnapshotFacts;
  try {
    facts = await snapshotFacts(async (sql) => snap.prepare(sql).all() as Record<string, unknown>[]);
  } finally {
    snap.close();
  }
  const gz = path.join(work, "database.sqlite.gz");
  await pipeline(createReadStream(copy), createGzip({ level: 6 }), createWriteStream(gz, { mode: 0o600 }));
  await rm(copy);
  return { facts, parts: [{ part: { name: "database.sqlite.gz", content: "sqlite-gzip" }, file: gz }], database: {} };
}

async function snapshotPostgres(config: Config, work: string): Promise<Snapshot> {
  const dumpVersion = toolVersion("pg_dump");
  const target = libpqTarget(config.databaseUrl);
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const snapshotId = String((await client.query("SELECT pg_export_snapshot() AS id")).rows[0].id);
    const serverVersion = String((await client.query("SHOW server_version")).rows[0].server_version);
    const facts = await snapshotFacts(async (sql) => (await client.query(sql)).rows as Record<string, unknown>[]);
    const dump = path.join(work, "database.pgdump");
    // The exported snapshot lives as long as this transaction: pg_dump runs inside it.
    await runTool("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", `--snapshot=${snapshotId}`, `--file=${dump}`, `--dbname=${target.url}`], target.env);
    await client.query("COMMIT");
    return { facts, parts: [{ part: { name: "database.pgdump", content: "pg-dump-custom" }, file: dump }], database: { serverVersion, dumpVersion } };
  } finally {
    await client.end();
  }
}

export async function createBackup(config: Config, out: string): Promise<BackupResult> {
  const file = path.resolve(out);
  if (existsSync(file)) throw new BackupFileError(`${file} already exists: choose a new name (a backup never overwrites one)`);
  const work = await mkdtemp(path.join(path.dirname(file), ".talon-backup-"));
  try {
    const snap = config.dialect === "sqlite" ? await snapshotSqlite(config, work) : await snapshotPostgres(config, work);
    const parts: BackupPart[] = [];
    for (const p of snap.parts) parts.push({ ...p.part, bytes: (await stat(p.file)).size, sha256: await sha256File(p.file) });
    const f = snap.facts;
    const pkcs11 = config.keystore.provider === "pkcs11" ? config.keystore : null;
    const manifest: BackupManifest = {
      format: "talon-backup",
      formatVersion: 1,
      createdAt: new Date().toISOString(),
      talonVersion: TALON_VERSION,
      dialect: config.dialect,
      database: { lastMigration: f.lastMigration, migrations: f.migrations, ...snap.database },
      keystore: {
        provider: config.keystore.provider,
        tokenLabel: pkcs11?.tokenLabel ?? null,
        currentMasterKeyVersion: f.currentMasterKeyVersion,
        masterKeys: f.masterKeys.map((k) => ({ version: k.version, label: pkcs11 ? masterLabel(k.version) : null, vaults: k.vaults })),
        signingKeys: f.signingKeys,
      },
      auditChains: f.auditChains,
      counts: f.counts,
      parts,
    };
    await writeBackupFile(file, manifest, snap.parts.map((p) => p.file));
    return { manifest, file, bytes: (await stat(file)).size };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
