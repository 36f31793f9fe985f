import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { buildState, ROOT } from "./build-state.mjs";
import { alive } from "./processes.mjs";

/**
 * The production server as a child process (`node scripts/start.mjs`, exactly what `npm start` runs),
 * for the start-up tests and the benchmark. Its environment is built from scratch so a developer's
 * TALON_* or SOFTHSM2_CONF never leaks in.
 */
export type TalonProcess = {
  url: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or 128+signal) once the process is gone. */
  exited: Promise<number>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number>;
};

const INHERITED = ["PATH", "HOME", "TMPDIR", "LANG", "TZ"];

/** The pid of dist/server.mjs, the launcher's (start.mjs) child (Linux /proc; null elsewhere or before it started). */
export function serverPid(launcherPid: number | undefined): number | null {
  if (launcherPid === undefined) return null;
  const childrenFile = `/proc/${launcherPid}/task/${launcherPid}/children`;
  const first = existsSync(childrenFile) ? readFileSync(childrenFile, "utf8").trim().split(/\s+/)[0] : undefined;
  return first ? Number(first) : null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const BUILD_LOCK = path.join(ROOT, ".next-build.lock");
const BUILD_WAIT_MS = 20 * 60_000;

/**
 * The right to build, across processes: test files run in parallel workers, and two `next build`s in
 * one checkout refuse each other ("Another next build process is already running"). The lock file
 * holds its owner's pid; one whose owner is gone is taken over. Returns the release function.
 */
function takeBuildLock(): () => void {
  const until = Date.now() + BUILD_WAIT_MS;
  for (;;) {
    try {
      writeFileSync(BUILD_LOCK, String(process.pid), { flag: "wx" });
      return () => rmSync(BUILD_LOCK, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let owner = Number.NaN;
    let age = 0;
    try {
      owner = Number(readFileSync(BUILD_LOCK, "utf8"));
      age = Date.now() - statSync(BUILD_LOCK).mtimeMs;
    } catch {
      // Released meanwhile (the next turn takes it), or unreadable: wait, within the bound.
    }
    // An empty file is a lock being written (its owner's pid follows at once), unless it stays empty.
    if (owner > 0 ? !alive(owner) : age > 5_000) rmSync(BUILD_LOCK, { force: true });
    else if (Date.now() > until) throw new Error(`Waited ${BUILD_WAIT_MS / 60_000} min for another process's build (${BUILD_LOCK})`);
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
  }
}

/** Builds when the build is missing or stale (one build at a time across processes); throws with the tail of the build output when it fails. */
export function ensureBuild(): void {
  if (process.env.TALON_TEST_BUILD_FAILED) throw new Error("The production build failed earlier in this run (see its output above)");
  if (buildState() === "current") return;
  const release = takeBuildLock();
  try {
    // Another process may have built while this one waited.
    if (buildState() === "current") return;
    build();
  } finally {
    release();
  }
}

function build(): void {
  const r = spawnSync(process.execPath, [path.join(ROOT, "scripts/build.mjs")], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-30).join("\n");
    throw new Error(`npm run build failed (exit ${r.status ?? r.signal}):\n${tail}`);
  }
  if (!existsSync(path.join(ROOT, "dist/server.mjs"))) throw new Error("npm run build succeeded but dist/server.mjs is missing");
}

export function startTalon(opts: { dataDir: string; port: number; env?: Record<string, string> }): TalonProcess {
  // Metrics on a free port: tests and the benchmark run several instances at once (9464 is one port).
  const env: Record<string, string> = { NODE_ENV: "production", TALON_LOG_LEVEL: "info", TALON_METRICS_ADDR: "127.0.0.1:0" };
  for (const k of INHERITED) if (process.env[k]) env[k] = process.env[k]!;
  Object.assign(env, { HOST: "127.0.0.1", PORT: String(opts.port), TALON_DATA_DIR: opts.dataDir }, opts.env);
  const child = spawn(process.execPath, [path.join(ROOT, "scripts/start.mjs")], { cwd: ROOT, env: env as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? (signal === "SIGKILL" ? 137 : signal === "SIGINT" ? 130 : 143))),
  );
  return {
    url: `http://127.0.0.1:${opts.port}`,
    port: opts.port,
    dataDir: opts.dataDir,
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      try {
        return await exited;
      } finally {
        clearTimeout(killer);
      }
    },
  };
}

/** Polls /v1/health until it answers 200; throws with the process output if it exits or times out. */
export async function waitHealthy(p: TalonProcess, timeoutMs = 90_000): Promise<number> {
  const started = Date.now();
  let exitCode: number | undefined;
  void p.exited.then((c) => (exitCode = c));
  while (Date.now() - started < timeoutMs) {
    if (exitCode !== undefined) throw new Error(`Talon exited with code ${exitCode} before it was healthy:\n${p.output()}`);
    try {
      const res = await fetch(`${p.url}/v1/health`);
      if (res.status === 200) return Date.now() - started;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Talon was not healthy after ${timeoutMs} ms:\n${p.output()}`);
}

/** The newest email in the data dir's outbox, decoded from quoted-printable. */
export function latestOutboxMail(dataDir: string): string {
  const dir = path.join(dataDir, "outbox");
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".eml")).sort() : [];
  if (!files.length) throw new Error(`No email in ${dir}`);
  const raw = readFileSync(path.join(dir, files.at(-1)!), "utf8");
  return raw.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** The verification token from the link in a sign-up email. */
export function verificationToken(mail: string): string {
  const m = /[?&#]token=([A-Za-z0-9_\-.~]+)/.exec(mail);
  if (!m) throw new Error("No verification link with a token in the email");
  return m[1]!;
}

type Json = Record<string, unknown>;

async function call(base: string, method: string, p: string, body?: unknown, token?: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(base + p, {
    method,
    headers: { ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

/** Signs a user up over the API and verifies the address through the outbox; returns an access token. */
export async function signUpVerified(p: TalonProcess, email: string, password: string): Promise<string> {
  const signup = await call(p.url, "POST", "/v1/auth/signup", { email, password, display_name: "Start-up test" });
  if (signup.status !== 201 && signup.status !== 200) throw new Error(`signup answered ${signup.status}: ${JSON.stringify(signup.body)}`);
  const verified = await call(p.url, "POST", "/v1/auth/verify-email", { token: verificationToken(latestOutboxMail(p.dataDir)) });
  if (verified.status !== 200 || typeof verified.body.access_token !== "string") {
    throw new Error(`verify-email answered ${verified.status}: ${JSON.stringify(verified.body)}`);
  }
  return verified.body.access_token;
}

export async function logIn(base: string, email: string, password: string): Promise<{ status: number; token?: string }> {
  const r = await call(base, "POST", "/v1/auth/token", { email, password });
  return { status: r.status, token: typeof r.body.access_token === "string" ? r.body.access_token : undefined };
}

export const api = call;
