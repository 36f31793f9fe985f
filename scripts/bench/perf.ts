/**
 * BENCH_PERF_DIR: `perf record -g` of each server during a measured row, summarised by the JavaScript
 * that ran. The V8 profiles of BENCH_PROFILE_DIR sample wall-clock time: on a saturated machine they
 * book a thread that waits for a core inside a system call (`writev`, `write`) as time spent there
 * (docs/perf: 41 % of `GET /v1/health` "in writev", against ≈ 20 % of its CPU in the kernel). `perf`
 * samples CPU time. Each sample is booked to its leaf-most JavaScript frame: the function whose own
 * code, or the V8 builtins, runtime, C++ and system calls it called, was on the CPU. So a function's
 * share holds what it costs where it runs, not what it awaits; an async function resumed by a
 * microtask is booked its own work only. Samples with no JavaScript frame (GC threads, the
 * checkpoint worker's SQLite, libuv) are booked to their shared object, `native:<name>`.
 *
 * Needs Linux `perf` (Debian: linux-perf) and permission to profile the servers (root, or
 * kernel.perf_event_paranoid ≤ 1); without them the rows run unprofiled, with a warning. The servers
 * start with `--perf-basic-prof` (./profile.ts), so V8 writes /tmp/perf-<pid>.map for perf to name
 * the JIT's code.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { ROOT } from "../build-state.mjs";

/** The directory the summaries go to, resolved, or null when the run takes none. */
export function perfDir(): string | null {
  const dir = process.env.BENCH_PERF_DIR;
  if (!dir) return null;
  mkdirSync(dir, { recursive: true });
  return path.resolve(dir);
}

let usable: boolean | null = null;
/** Whether `perf` runs here (checked once; a warning when it does not). */
function perfUsable(): boolean {
  if (usable === null) {
    usable = spawnSync("perf", ["--version"], { stdio: "ignore" }).status === 0;
    if (!usable) console.error("    BENCH_PERF_DIR: `perf` is not installed (Debian: linux-perf); rows run without it");
  }
  return usable;
}

/** One `perf record` of a process, until perfRecorded ends it with SIGINT. */
type Recording = { name: string; data: string; child: ChildProcess; exited: Promise<number | null> };

function record(pid: number, dir: string, name: string): Recording {
  const data = path.join(dir, `${name}.perf.data`);
  const child = spawn("perf", ["record", "-q", "-g", "-p", String(pid), "-o", data], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => {
    child.on("error", () => resolve(-1));
    // Stopped by our SIGINT, perf writes its data and ends by that signal.
    child.on("exit", (code, signal) => {
      const ok = code === 0 || signal === "SIGINT";
      if (!ok) console.error(`    perf record of ${name} failed: ${err.trim().split("\n").slice(-1)[0] || `exit ${code ?? signal}`}`);
      resolve(ok ? 0 : (code ?? -1));
    });
  });
  return { name, data, child, exited };
}

/**
 * Runs `load` with each server (pid, row name) recorded by perf, then writes `<name>.perf.txt`: the
 * CPU samples by module and by function (see above), and each function's samples with it anywhere on
 * the stack (Tally.report). The raw `.perf.data` is removed afterwards.
 */
export async function perfRecorded<T>(servers: { pid: number; name: string }[], load: () => Promise<T>): Promise<T> {
  const dir = perfDir();
  if (!dir || !perfUsable()) return load();
  const recordings = servers.map((s) => record(s.pid, dir, s.name));
  try {
    return await load();
  } finally {
    for (const r of recordings) r.child.kill("SIGINT");
    for (const r of recordings) {
      if ((await r.exited) === 0) await summarise(r, dir);
      rmSync(r.data, { force: true });
    }
  }
}

const V8_LOG = /^isolate-0x[0-9a-f]+-\d+-v8\.log$/;
const v8LogsBefore = new Set(readdirSync(ROOT).filter((f) => V8_LOG.test(f)));

/**
 * `--perf-basic-prof` also makes V8 write an `isolate-…-v8.log` into the working directory of every
 * Node process that inherits it (the servers, their launchers and the launchers' children), a name
 * NODE_OPTIONS cannot change: at the end of a run, those the run made in the project's directory are
 * removed (a process still running writes on to its unlinked file).
 */
export function removeRunV8Logs(): void {
  if (!perfDir()) return;
  for (const f of readdirSync(ROOT)) if (V8_LOG.test(f) && !v8LogsBefore.has(f)) rmSync(path.join(ROOT, f), { force: true });
}

async function summarise(r: Recording, dir: string): Promise<void> {
  const script = spawn("perf", ["script", "-i", r.data], { stdio: ["ignore", "pipe", "ignore"] });
  const tally = new Tally();
  let frames: string[] = [];
  for await (const line of createInterface({ input: script.stdout! })) {
    if (line.trim() === "") {
      tally.add(frames);
      frames = [];
    } else if (line[0] === " " || line[0] === "\t") {
      frames.push(line.trim());
    }
  }
  tally.add(frames);
  const out = path.join(dir, `${r.name}.perf.txt`);
  writeFileSync(out, tally.report(r.name));
  console.error(`    perf ${r.name}.perf.txt (${tally.samples} samples)`);
}

/** A perf frame's symbol: `<address> <symbol>+<offset> (<object>)` → symbol and object. */
const FRAME = /^[0-9a-f]+\s+(.*?)(?:\+0x[0-9a-f]+)?\s+\((.*)\)$/;
/** A JIT frame named by --perf-basic-prof: `JS:*name url:line:column` (`*` optimised, `~` not; the name may be empty). */
const JS_FRAME = /^JS:[*~^]?(\S*) (.+):(\d+):\d+$/;

/** A script's URL as a short file name: inside node_modules, a Node internal module, or relative to the project. */
export function fileOf(url: string): string {
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) return url.slice(nm + "node_modules/".length);
  if (url.startsWith("node:")) return url;
  const file = url.replace(/^file:\/\//, "");
  return path.relative(process.cwd(), file) || file;
}

/** Where a script belongs: its npm package, else its file (fileOf). */
export function moduleOf(url: string): string {
  const file = fileOf(url);
  if (!url.includes("node_modules/")) return file;
  const parts = file.split("/");
  return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** Samples booked to their leaf-most JavaScript frame (see above). */
export class Tally {
  samples = 0;
  private readonly byModule = new Map<string, number>();
  private readonly byFunction = new Map<string, number>();
  /** Samples with a function anywhere on their stack (each function counted once a sample). */
  private readonly onStack = new Map<string, number>();

  /** One sample: its frames, leaf first, as perf script prints them. */
  add(frames: readonly string[]): void {
    if (frames.length === 0) return;
    this.samples++;
    let module: string | null = null;
    let fn: string | null = null;
    const leaf = FRAME.exec(frames[0]!);
    for (let i = 0; i < frames.length; i++) {
      const m = i === 0 ? leaf : FRAME.exec(frames[i]!);
      const js = m && JS_FRAME.exec(m[1]!);
      if (js) {
        module = moduleOf(js[2]!);
        fn = `${js[1] || "(anonymous)"} ${fileOf(js[2]!)}:${js[3]}`;
        break;
      }
      if (m?.[1]!.startsWith("RegExp:")) {
        module = "(regular expressions)";
        fn = m[1]!.slice(0, 100);
        break;
      }
    }
    if (module === null) {
      module = fn = `native:${path.basename(leaf?.[2] ?? "unknown")}`;
    }
    const seen = new Set<string>();
    for (const frame of frames) {
      const js = JS_FRAME.exec(FRAME.exec(frame)?.[1] ?? "");
      if (js) seen.add(`${js[1] || "(anonymous)"} ${fileOf(js[2]!)}:${js[3]}`);
    }
    for (const f of seen) this.onStack.set(f, (this.onStack.get(f) ?? 0) + 1);
    this.byModule.set(module, (this.byModule.get(module) ?? 0) + 1);
    this.byFunction.set(fn!, (this.byFunction.get(fn!) ?? 0) + 1);
  }

  report(name: string, top = 40): string {
    const table = (m: Map<string, number>, rows = top) =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .slice(0, rows)
        .map(([k, n]) => `${((100 * n) / this.samples).toFixed(2).padStart(6)} %  ${k}`)
        .join("\n");
    return [
      `${name}: ${this.samples} CPU samples (perf record -g), each booked to its leaf-most JavaScript frame`,
      "",
      "By module:",
      table(this.byModule),
      "",
      "By function:",
      table(this.byFunction),
      "",
      "On the stack (the function and what it called synchronously; an async function's awaited work is not its own):",
      table(this.onStack, 80),
      "",
    ].join("\n");
  }
}
