import { mkdirSync, renameSync, rmdirSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { testDialect, type TestServer } from "./server";

/**
 * Takes the server's database away for real; the returned function gives it back. On PostgreSQL the
 * test database stops accepting connections and its sessions are terminated. On SQLite the file cannot
 * be opened any more (a volume gone, a path replaced) when the runtime next connects: its connection
 * is closed, and the database path is now a directory.
 */
export async function breakDatabase(server: TestServer): Promise<() => Promise<void>> {
  if (testDialect === "postgres") {
    const name = new URL(server.databaseUrl).pathname.slice(1);
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
    return async () => {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await admin.end();
    };
  }
  const file = path.join(server.dataDir, "talon.db");
  await server.rt.db.$disconnect();
  renameSync(file, `${file}.away`);
  mkdirSync(file);
  return async () => {
    rmdirSync(file);
    renameSync(`${file}.away`, file);
  };
}
