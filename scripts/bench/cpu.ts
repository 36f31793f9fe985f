/**
 * The servers' own CPU time per request under a row: user + system time of each server process (all its
 * threads: the event loop, the checkpoint worker, libuv's pool) from /proc/<pid>/stat, before and after
 * the load, over the requests it answered. Unlike req/s it does not move with what the load generator and
 * the rest of the machine take from the same two cores, so two builds compare on it across runs.
 */
import { spawnSync } from "node:child_process";
import { pidsNamed, statFields } from "../processes.mjs";

/** Clock ticks per second of /proc's times (sysconf(_SC_CLK_TCK)); 100 on Linux unless told otherwise. */
const TICKS_PER_SECOND = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;

/** A process's user + system time in ms, or null without /proc or once it has ended. */
function cpuMs(pid: number): number | null {
  const fields = statFields(pid);
  return fields ? ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND : null;
}

/**
 * The CPU ms the processes named `name` spent while `load` ran (one that started meanwhile counts from its
 * start; a PostgreSQL server's backends are the pools' connections, open before a row starts), or null
 * when there was none to read (no /proc, or the server runs on another machine).
 */
export async function withCpuOfProcessesNamed<T>(name: string, load: () => Promise<T>): Promise<{ result: T; cpuMs: number | null }> {
  const before = new Map(pidsNamed(name).map((pid) => [pid, cpuMs(pid)]));
  const result = await load();
  let total = 0;
  for (const pid of pidsNamed(name)) total += (cpuMs(pid) ?? 0) - (before.get(pid) ?? 0);
  return { result, cpuMs: before.size === 0 ? null : total };
}

/** `ms` of CPU spread over `requests`, in µs a request; null when either is unknown or nothing was answered. */
export const usPerRequest = (ms: number | null, requests: number): number | null => (ms === null || requests === 0 ? null : (ms * 1000) / requests);

/** Runs `load` and gives its result with the CPU µs the processes `pids` spent per request (null when unmeasurable). */
export async function withCpuPerRequest<T extends { requests: { total: number } }>(pids: (number | null)[], load: () => Promise<T>): Promise<{ result: T; cpuUs: number | null }> {
  const sum = () => {
    let total = 0;
    for (const pid of pids) {
      const ms = pid === null ? null : cpuMs(pid);
      if (ms === null) return null;
      total += ms;
    }
    return total;
  };
  const before = sum();
  const result = await load();
  const after = sum();
  return { result, cpuUs: usPerRequest(before === null || after === null ? null : after - before, result.requests.total) };
}
