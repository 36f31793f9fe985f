import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../scripts/talon-process";

/** A child process running tests/helpers/api-process-main.ts: a real second (or restarted) Talon instance. */
export type ApiProcess = { url: string; port: number; child: ChildProcess; output(): string; stop(signal?: NodeJS.Signals): Promise<void> };

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const INHERITED = ["PATH", "HOME", "TMPDIR", "LANG", "TZ"];

export async function startApiProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<ApiProcess> {
  const base: Record<string, string> = { PORT: String(await freePort()), TALON_LOG_LEVEL: "warn", TALON_METRICS_ADDR: "off" };
  for (const k of INHERITED) if (process.env[k]) base[k] = process.env[k]!;
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "tests/helpers/api-process-main.ts")], {
    cwd: ROOT,
    env: { ...base, ...env } as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`API process did not start:\n${out}`)), timeoutMs);
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /\{"listening":(\d+)\}/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`API process exited (${code}) before listening:\n${out}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    output: () => out,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
