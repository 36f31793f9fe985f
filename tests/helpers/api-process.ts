import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../scripts/talon-process";

/**
 * A child process running tests/helpers/api-process-main.ts: a real second (or restarted, or
 * kill -9'd) Talon instance. `exited` resolves with the exit code (null when a signal ended it).
 */
export type ApiProcess = {
  url: string;
  port: number;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** Sends `signal` (SIGTERM by default; SIGKILL after 15 s) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
};

export type ApiProcessOptions = {
  /** The port to listen on; a free one by default (a restart reuses its predecessor's). */
  port?: number;
  /** false: a second instance on a database another process already migrated and holds open. */
  migrate?: boolean;
  /** false: no background jobs (webhook deliveries, the rotation scan), only the API. */
  jobs?: boolean;
  /** The first word of the ready line `<label> listening <url>`, which stays in output(). */
  label?: string;
  timeoutMs?: number;
};

/** For a test that sends more requests than the default per-minute limits allow. */
export const NO_RATE_LIMITS = {
  TALON_RATE_LIMIT_IP_PER_MINUTE: "0",
  TALON_RATE_LIMIT_PRINCIPAL_PER_MINUTE: "0",
  TALON_RATE_LIMIT_AUTH_PER_MINUTE: "0",
};

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// Built from scratch so a developer's TALON_* or SOFTHSM2_CONF never leaks in.
const INHERITED = ["PATH", "HOME", "TMPDIR", "LANG", "TZ"];

/** Starts the process with `env` over quiet defaults and waits until it listens. */
export async function startApiProcess(env: Record<string, string>, opts: ApiProcessOptions = {}): Promise<ApiProcess> {
  const base: Record<string, string> = {
    PORT: String(opts.port ?? (await freePort())),
    TALON_LOG_LEVEL: "warn",
    TALON_METRICS_ADDR: "off",
    TALON_TEST_MIGRATE: opts.migrate === false ? "0" : "1",
    TALON_TEST_JOBS: opts.jobs === false ? "0" : "1",
    TALON_TEST_PROCESS_LABEL: opts.label ?? "api-process",
  };
  for (const k of INHERITED) if (process.env[k]) base[k] = process.env[k]!;
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "tests/helpers/api-process-main.ts")], {
    cwd: ROOT,
    env: { ...base, ...env } as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`API process did not listen in ${opts.timeoutMs ?? 60_000} ms:\n${out}`)), opts.timeoutMs ?? 60_000);
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const m = / listening (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`API process exited (${code}) before listening:\n${out}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    child,
    output: () => out,
    exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
