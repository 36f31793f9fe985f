/**
 * CPU profiles of the servers under a row (BENCH_PROFILE_DIR), for the SQLite instance and the two
 * PostgreSQL instances alike. `--cpu-prof` is refused inside NODE_OPTIONS, so each server preloads
 * ./cpu-profile-preload.mjs, which starts and stops V8's profiler on SIGUSR2.
 */
import { mkdirSync, readdirSync, renameSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../build-state.mjs";
import { serverPid } from "../talon-process";

/** The directory profiles go to, resolved, or null when the run takes none. */
export function profileDir(): string | null {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (!dir) return null;
  mkdirSync(dir, { recursive: true });
  return path.resolve(dir);
}

/** The server environment that loads the given preloads of scripts/bench (plus the profiler when profiling). */
export function preloadEnv(preloads: string[]): Record<string, string> {
  const dir = profileDir();
  const all = [...preloads, ...(dir ? ["cpu-profile-preload.mjs"] : [])];
  if (all.length === 0) return {};
  return {
    NODE_OPTIONS: all.map((p) => `--import=${path.join(ROOT, "scripts/bench", p)}`).join(" "),
    ...(dir ? { BENCH_PROFILE_DIR: dir } : {}),
  };
}

/** Starts the servers' profilers (launcher pids of startTalon), runs the load, and names each profile `<name>.cpuprofile`. */
export async function profiled<T>(servers: { launcherPid: number | undefined; name: string }[], load: () => Promise<T>): Promise<T> {
  const dir = profileDir();
  const pids = servers.map((s) => serverPid(s.launcherPid));
  if (!dir || pids.some((p) => p === null)) return load();
  for (const pid of pids) process.kill(pid!, "SIGUSR2");
  const before = new Set(readdirSync(dir));
  const result = await load();
  for (const [n, pid] of pids.entries()) {
    process.kill(pid!, "SIGUSR2");
    await collect(dir, pid!, before, servers[n]!.name);
  }
  return result;
}

async function collect(dir: string, pid: number, before: Set<string>, name: string): Promise<void> {
  for (let waited = 0; waited < 30_000; waited += 100) {
    const fresh = readdirSync(dir).find((f) => f.startsWith(`server-${pid}-`) && f.endsWith(".cpuprofile") && !before.has(f));
    if (fresh) {
      renameSync(path.join(dir, fresh), path.join(dir, `${name}.cpuprofile`));
      console.error(`    profile ${name}.cpuprofile`);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  console.error(`    no CPU profile written for ${name}`);
}
