/**
 * CPU profiles of the servers under a row (BENCH_PROFILE_DIR; and perf's, BENCH_PERF_DIR: ./perf.ts),
 * for the SQLite instance and the two PostgreSQL instances alike. `--cpu-prof` is refused inside
 * NODE_OPTIONS, so each server preloads ./cpu-profile-preload.mjs, which starts and stops V8's
 * profiler on SIGUSR2.
 */
import { mkdirSync, readdirSync, renameSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../build-state.mjs";
import { serverPid } from "../talon-process";
import { perfDir, perfRecorded } from "./perf";

/** The directory profiles go to, resolved, or null when the run takes none. */
export function profileDir(): string | null {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (!dir) return null;
  mkdirSync(dir, { recursive: true });
  return path.resolve(dir);
}

/**
 * The server environment that loads the given preloads of scripts/bench, plus the V8 profiler when
 * profiling (BENCH_PROFILE_DIR) and V8's perf map when perf records (BENCH_PERF_DIR, ./perf.ts).
 */
export function preloadEnv(preloads: string[]): Record<string, string> {
  const dir = profileDir();
  const all = [...preloads, ...(dir ? ["cpu-profile-preload.mjs"] : [])];
  const options = [...(perfDir() ? ["--perf-basic-prof"] : []), ...all.map((p) => `--import=${path.join(ROOT, "scripts/bench", p)}`)];
  if (options.length === 0) return {};
  return { NODE_OPTIONS: options.join(" "), ...(dir ? { BENCH_PROFILE_DIR: dir } : {}) };
}

/**
 * Runs the load with the servers (launcher pids of startTalon) profiled: their V8 profilers, each
 * profile named `<name>.cpuprofile` (BENCH_PROFILE_DIR), and perf (BENCH_PERF_DIR, ./perf.ts).
 */
export async function profiled<T>(servers: { launcherPid: number | undefined; name: string }[], load: () => Promise<T>): Promise<T> {
  const pids = servers.map((s) => serverPid(s.launcherPid));
  if (pids.some((p) => p === null)) return load();
  const recorded = () => perfRecorded(servers.map((s, i) => ({ pid: pids[i]!, name: s.name })), load);
  const dir = profileDir();
  if (!dir) return recorded();
  for (const pid of pids) process.kill(pid!, "SIGUSR2");
  const before = new Set(readdirSync(dir));
  const result = await recorded();
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
