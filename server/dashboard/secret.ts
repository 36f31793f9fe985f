import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config";

/**
 * The key next-auth encrypts the session cookie with: AUTH_SECRET when set (it must be, and the same,
 * on every instance behind one load balancer), otherwise 32 random bytes kept in `<data dir>/auth-secret`
 * (mode 0600), created on first use. The cookie only names a server-side session, so a leaked key
 * alone does not sign anyone in; it still stays out of logs and the database.
 */
export function dashboardSecret(config: Pick<Config, "dataDir">, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.AUTH_SECRET;
  if (fromEnv) {
    if (fromEnv.length < 32) throw new Error("AUTH_SECRET must be at least 32 characters");
    return fromEnv;
  }
  // Asked for on every dashboard request (next-auth's lazy config): the file is read once.
  const file = path.join(config.dataDir, "auth-secret");
  let secret = fromFile.get(file);
  if (secret === undefined) {
    secret = readOrCreate(file);
    fromFile.set(file, secret);
  }
  return secret;
}

const fromFile = new Map<string, string>();

function readOrCreate(file: string): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  try {
    writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600, flag: "wx" });
  } catch (e) {
    // Another process created it first: use theirs.
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  return readFileSync(file, "utf8").trim();
}
