import { spawn, spawnSync } from "node:child_process";
import type { Readable } from "node:stream";

/**
 * The database side of backups: PostgreSQL's client tools (pg_dump, pg_restore) run without a
 * password on their command line, where every local user could read it in /proc. (A SQLite URL's
 * file: ../db/sqlite-owner's sqliteFileOf.)
 */

/** Query parameters libpq understands; Prisma-only ones (schema, connection_limit, …) are dropped. */
const LIBPQ_PARAMS = new Set(["sslmode", "sslcert", "sslkey", "sslrootcert", "sslcrl", "sslpassword", "application_name", "connect_timeout", "options", "target_session_attrs", "host", "port", "dbname", "user", "passfile", "gssencmode", "channel_binding"]);

/** The URL for libpq without its password, and the environment that carries the password instead. */
export function libpqTarget(databaseUrl: string): { url: string; env: NodeJS.ProcessEnv } {
  const u = new URL(databaseUrl);
  const password = decodeURIComponent(u.password);
  u.password = "";
  for (const key of [...u.searchParams.keys()]) if (!LIBPQ_PARAMS.has(key)) u.searchParams.delete(key);
  return { url: u.toString(), env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) } };
}

export class ToolMissingError extends Error {}

/** `pg_dump --version` and the like; throws ToolMissingError naming the package when it is not installed. */
export function toolVersion(tool: "pg_dump" | "pg_restore"): string {
  const r = spawnSync(tool, ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new ToolMissingError(
      `${tool} is not installed: install PostgreSQL's client tools of at least the server's major version (Debian: apt-get install postgresql-client), or follow "PostgreSQL without pg_dump" in docs/operations/backup.md`,
    );
  }
  return r.stdout.trim();
}

/** Runs a PostgreSQL client tool; stdin from `input` when given. Rejects with its last stderr lines (which never hold the password). */
export function runTool(tool: "pg_dump" | "pg_restore", args: string[], env: NodeJS.ProcessEnv, input?: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env, stdio: [input ? "pipe" : "ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr = (stderr + d).slice(-4000);
    });
    if (input && child.stdin) {
      input.on("error", (e) => {
        child.kill();
        reject(e);
      });
      child.stdin.on("error", () => {}); // the exit code reports why the tool stopped reading
      input.pipe(child.stdin);
    }
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${tool} failed (exit ${code}): ${stderr.trim().split("\n").slice(-3).join(" / ") || "no message"}`));
    });
  });
}
