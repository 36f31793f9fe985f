import { createWriteStream, existsSync, statSync } from "node:fs";
import { chmod, mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import Database from "better-sqlite3";
import pg from "pg";
import type { Config } from "../config";
import { sqliteFileOf } from "../db/sqlite-owner";
import { BackupFileError, openBackupFile, type OpenedBackup } from "./backup-file";
import { libpqTarget, runTool, toolVersion } from "./database-tools";
import { type BackupManifest, factsMismatch, snapshotFacts } from "./manifest";

/**
 * `npm run restore -- FILE`: the backup's database, onto a fresh data dir (SQLite) or an empty
 * PostgreSQL database, never over existing data. Every checksum is checked first; afterwards the
 * restored database is read back and must match the manifest (row counts, the head of every org's
 * audit chain, the last migration), or the restore is undone (SQLite) or reported (PostgreSQL, whose
 * restore runs in one transaction: a failure leaves the database empty).
 *
 * The keys are not restored: they are in the HSM token (or the local keystore's key file), which the
 * operator brings back separately (docs/operations/backup.md). Talon's start-up then checks that the
 * keystore holds every master key the restored vault rows need, and refuses to start otherwise.
 */
export type RestoreResult = { manifest: BackupManifest; target: string };

async function restoreSqlite(config: Config, backup: OpenedBackup): Promise<string> {
  const target = sqliteFileOf(config.databaseUrl);
  for (const f of [target, `${target}-wal`]) {
    if (existsSync(f) && statSync(f).size > 0) throw new BackupFileError(`${f} already exists: restore onto a fresh data dir (a restore never overwrites a database)`);
  }
  await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  const tmp = `${target}.restoring-${process.pid}`;
  try {
    await pipeline(backup.partStream("database.sqlite.gz"), createGunzip(), createWriteStream(tmp, { mode: 0o600, flags: "wx" }));
    const db = new Database(tmp, { fileMustExist: true });
    try {
      const check = db.pragma("integrity_check", { simple: true });
      if (check !== "ok") throw new BackupFileError(`The restored SQLite database fails its integrity check: ${String(check)}`);
      const wrong = factsMismatch(backup.manifest, await snapshotFacts(async (sql) => db.prepare(sql).all() as Record<string, unknown>[]));
      if (wrong.length) throw new BackupFileError(`The restored database does not match the backup's manifest: ${wrong.join("; ")}`);
    } finally {
      db.close();
    }
    await chmod(tmp, 0o600);
    await rename(tmp, target);
  } finally {
    await rm(tmp, { force: true });
    await rm(`${tmp}-wal`, { force: true });
    await rm(`${tmp}-shm`, { force: true });
  }
  return target;
}

async function restorePostgres(config: Config, backup: OpenedBackup): Promise<string> {
  toolVersion("pg_restore");
  const target = libpqTarget(config.databaseUrl);
  const where = `${new URL(target.url).host}${new URL(target.url).pathname}`;
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  try {
    const used = await client.query(
      `SELECT COUNT(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`,
    );
    if (Number(used.rows[0].n) > 0) throw new BackupFileError(`The database ${where} is not empty: restore into a new, empty database (a restore never overwrites one)`);
    await runTool("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", `--dbname=${target.url}`], target.env, backup.partStream("database.pgdump"));
    const wrong = factsMismatch(backup.manifest, await snapshotFacts(async (sql) => (await client.query(sql)).rows as Record<string, unknown>[]));
    if (wrong.length) throw new BackupFileError(`The restored database ${where} does not match the backup's manifest: ${wrong.join("; ")}`);
  } finally {
    await client.end();
  }
  return where;
}

export async function restoreBackup(config: Config, file: string): Promise<RestoreResult> {
  const backup = await openBackupFile(path.resolve(file));
  const { manifest } = backup;
  if (manifest.dialect !== config.dialect) {
    throw new BackupFileError(`This is a ${manifest.dialect === "sqlite" ? "SQLite" : "PostgreSQL"} backup, but DATABASE_URL names a ${config.dialect === "sqlite" ? "SQLite" : "PostgreSQL"} database`);
  }
  const target = manifest.dialect === "sqlite" ? await restoreSqlite(config, backup) : await restorePostgres(config, backup);
  return { manifest, target };
}
