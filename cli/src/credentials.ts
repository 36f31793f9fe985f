/**
 * `talon login`'s stored credentials: `$XDG_CONFIG_HOME/talon/credentials.json` (default
 * `~/.config/talon`), directory 0700, file 0600, replaced atomically so a crash never leaves half a file.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

export type StoredCredentials = {
  baseUrl: string;
  /** A user login: a short-lived JWT and its single-use refresh token. */
  access_token?: string;
  refresh_token?: string;
  /** Epoch ms. */
  expires_at?: number;
  /** An API key login (`1ck_…`), sent as is. */
  api_key?: string;
  email?: string;
};

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(homedir(), ".config");
  return path.join(base, "talon");
}

export const credentialsPath = (env: NodeJS.ProcessEnv = process.env) => path.join(configDir(env), "credentials.json");

export function readCredentials(env: NodeJS.ProcessEnv = process.env): StoredCredentials | null {
  try {
    const c = JSON.parse(readFileSync(credentialsPath(env), "utf8")) as StoredCredentials;
    return typeof c.baseUrl === "string" ? c : null;
  } catch {
    return null;
  }
}

export function writeCredentials(c: StoredCredentials, env: NodeJS.ProcessEnv = process.env): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = credentialsPath(env);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(c, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}

export function removeCredentials(env: NodeJS.ProcessEnv = process.env): boolean {
  const file = credentialsPath(env);
  try {
    readFileSync(file);
  } catch {
    return false;
  }
  rmSync(file, { force: true });
  return true;
}
