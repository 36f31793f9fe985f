import { execFile, spawn } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

export const BIN = path.resolve("cli/bin/talon.mjs");

/** Builds cli/dist/talon.mjs, the file `talon` runs after `npm install`. */
export async function buildCli() {
  await promisify(execFile)(process.execPath, [path.resolve("cli/build.mjs")], { timeout: 60_000 });
}

export type CliResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/**
 * Runs the real CLI in a child process with a clean environment: only PATH, HOME/XDG_CONFIG_HOME
 * and what the test passes (so no credential of the machine leaks in).
 */
export function talon(args: string[], opts: { env?: Record<string, string>; input?: string; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NODE_ENV: "test", ...opts.env },
      cwd: opts.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
}
