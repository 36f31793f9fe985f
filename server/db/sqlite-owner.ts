import path from "node:path";
import Database from "better-sqlite3";

/** The file a `file:` database URL names, resolved against the working directory (its query dropped). */
export function sqliteFileOf(databaseUrl: string): string {
  return path.resolve(databaseUrl.slice("file:".length).split("?", 1)[0]!);
}

export class SqliteInUseError extends Error {}

// Referenced for the life of the process: the lock lasts as long as its connection.
const held: Database.Database[] = [];

/**
 * One Talon server per SQLite database, enforced. The write gate and the caches of principals,
 * policies and IP rules are per process (./invalidation.ts): a second server on the same file would
 * not see the first one's revocations until its cached entries aged out. So the server holds an
 * exclusive lock on `<database>.lock` (a SQLite file of its own, in exclusive locking mode) for its
 * whole life; the kernel drops the lock when the process ends, `kill -9` included, so a crash never
 * leaves a stale lock behind. A second server on the same database stops at once with one clear
 * line, instead of waiting out the migrator's busy timeout on the first server's WAL lock.
 *
 * Only the server takes it: the CLI's tools (tiers, backups) open the database beside a running
 * server, as before.
 */
export function claimSqliteDatabase(databaseUrl: string): void {
  const file = sqliteFileOf(databaseUrl);
  const lock = `${file}.lock`;
  const db = new Database(lock, { timeout: 0 });
  try {
    db.pragma("locking_mode = EXCLUSIVE");
    // An empty write transaction takes the EXCLUSIVE lock; in this locking mode it is kept after COMMIT.
    db.exec("BEGIN EXCLUSIVE; COMMIT");
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === "SQLITE_BUSY") {
      throw new SqliteInUseError(
        `another Talon server is using the database ${file}: one server per SQLite database (stop the other one, or give this one its own TALON_DATA_DIR; several instances need PostgreSQL)`,
      );
    }
    throw e;
  }
  held.push(db);
}
