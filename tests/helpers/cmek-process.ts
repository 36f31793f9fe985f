import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export type CmekProcess = { url: string; child: ChildProcess; output(): string; exited: Promise<number | null> };

/**
 * Starts tests/helpers/cmek-process-main.ts under tsx with a clean environment and waits until it
 * listens. The test kills it with `child.kill("SIGKILL")`.
 */
export async function startCmekProcess(opts: { dataDir: string; databaseUrl: string; port: number }): Promise<CmekProcess> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    TALON_DATA_DIR: opts.dataDir,
    DATABASE_URL: opts.databaseUrl,
    PORT: String(opts.port),
    TALON_LOG_LEVEL: "info",
    TALON_METRICS_ADDR: "off",
    TALON_RATE_LIMIT_IP_PER_MINUTE: "0",
    TALON_RATE_LIMIT_PRINCIPAL_PER_MINUTE: "0",
    TALON_RATE_LIMIT_AUTH_PER_MINUTE: "0",
  };
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "tests/helpers/cmek-process-main.ts")], {
    cwd: ROOT,
    env: env as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`CMEK test process did not listen in 60 s:\n${out}`)), 60_000);
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      if (out.includes("cmek-process listening\n")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`CMEK test process exited (${code}) before listening:\n${out}`));
    });
  });
  return { url: `http://127.0.0.1:${opts.port}`, child, output: () => out, exited };
}
