// A watchdog for `npm test`'s vitest runs. A test file whose process is stuck outside JavaScript (a
// synchronous call that never returns: a native library, a child waited on synchronously) is out of
// reach of vitest's own test and hook timeouts, and would hold the whole run until CI's deadline,
// printing nothing. Each worker records its pid, file and start time (tests/helpers/progress-setup.ts);
// a file still running after `limitMs` is reported with what its process and children are waiting on
// in the kernel, then its worker is killed, so vitest fails that file by name and the run goes on.
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import path from "node:path";
import { alive, statFields } from "./processes.mjs";

function read(file) {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return "?";
  }
}

/** The direct children of every process: /proc/<pid>/stat's fourth field is the parent. */
function childrenByParent() {
  const out = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const fields = statFields(d);
    if (!fields) continue; // Gone meanwhile.
    const ppid = Number(fields[1]);
    if (!out.has(ppid)) out.set(ppid, []);
    out.get(ppid).push(Number(d));
  }
  return out;
}

/** One process and its threads: state, the kernel function each waits in, and its command line. */
function describeProcess(pid, depth) {
  const pad = "  ".repeat(depth);
  const cmd = read(`/proc/${pid}/cmdline`).replaceAll("\0", " ").slice(0, 200);
  const lines = [`${pad}pid ${pid} [${read(`/proc/${pid}/status`).match(/^State:\s+(.*)$/m)?.[1] ?? "?"}] ${cmd}`];
  let tids = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    // Gone meanwhile.
  }
  const waits = new Map();
  for (const tid of tids) {
    const key = `${read(`/proc/${pid}/task/${tid}/comm`)}: ${read(`/proc/${pid}/task/${tid}/wchan`)}`;
    waits.set(key, (waits.get(key) ?? 0) + 1);
  }
  for (const [key, n] of waits) lines.push(`${pad}  thread ${key}${n > 1 ? ` (×${n})` : ""}`);
  const stack = read(`/proc/${pid}/stack`);
  if (stack !== "?" && stack !== "") lines.push(`${pad}  kernel stack: ${stack.split("\n").slice(0, 4).map((l) => l.replace(/^\[<[0-9a-f]+>\] /, "")).join(" < ")}`);
  return lines;
}

function tree(pid, children, depth = 0) {
  const lines = describeProcess(pid, depth);
  for (const c of children.get(pid) ?? []) lines.push(...tree(c, children, depth + 1));
  return lines;
}

/**
 * Starts watching `dir` (the workers' records). Returns stop(), which removes the records and returns
 * the files it killed (relative to `root`, each with where it was stuck): vitest has no result for
 * them, so the caller fails them.
 */
export function watchTestFiles(dir, { limitMs, root, log = (s) => console.error(s), everyMs = 15_000 }) {
  const reported = new Set();
  const killed = [];
  const timer = setInterval(() => {
    let entries = [];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of entries) {
      const pid = Number(name);
      const [since, file = "?"] = read(path.join(dir, name)).split("\t");
      if (!alive(pid)) {
        rmSync(path.join(dir, name), { force: true });
        continue;
      }
      const ranMs = Date.now() - Number(since);
      if (!(ranMs > limitMs) || reported.has(name)) continue;
      reported.add(name);
      const children = childrenByParent();
      // One line for the run's summary: where the worker's main thread waits, and its children.
      const kids = (children.get(pid) ?? []).map((c) => `${read(`/proc/${c}/cmdline`).replaceAll("\0", " ").slice(0, 60).trim()} in ${read(`/proc/${c}/wchan`)}`);
      killed.push(`${path.relative(root, file)} (main thread in ${read(`/proc/${pid}/wchan`)}${kids.length ? `; children: ${kids.join(", ")}` : ""})`);
      const lines = [
        `\n▸ watchdog: ${path.relative(root, file)} has run for ${Math.round(ranMs / 60_000)} min (limit ${limitMs / 60_000}); its worker and what each process waits on:`,
        ...tree(pid, children),
      ];
      try {
        lines.push(`  working directory: ${readlinkSync(`/proc/${pid}/cwd`)}`);
      } catch {
        // Gone meanwhile.
      }
      log(lines.join("\n"));
      // Its children first (a server it started, a build it waits on), then the worker: vitest then
      // fails the file as a worker that exited unexpectedly.
      const kill = (p) => {
        for (const c of children.get(p) ?? []) kill(c);
        try {
          process.kill(p, "SIGKILL");
        } catch {
          // Gone meanwhile.
        }
      };
      kill(pid);
    }
  }, everyMs);
  return () => {
    clearInterval(timer);
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    return killed;
  };
}
