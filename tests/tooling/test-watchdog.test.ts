import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { watchTestFiles } from "../../scripts/test-watchdog.mjs";

/** npm test's watchdog (scripts/test-watchdog.mjs) on real processes: one stuck in a synchronous wait, with a child. */
const ROOT = path.resolve(import.meta.dirname, "../..");
let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// A stand-in for a stuck test file's worker: its main thread blocked in Atomics.wait, a child asleep.
function stuckWorker() {
  const code = `require("node:child_process").spawn("sleep", ["300"], { stdio: "ignore" }); setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0), 200);`;
  return spawn(process.execPath, ["-e", code], { stdio: "ignore" });
}

/** Until the stand-in's main thread is blocked and its child started (a loaded machine may take seconds). */
async function blocked(pid: number) {
  const read = (f: string) => {
    try {
      return readFileSync(f, "utf8");
    } catch {
      return "";
    }
  };
  await expect.poll(() => read(`/proc/${pid}/wchan`).startsWith("futex") && read(`/proc/${pid}/task/${pid}/children`).trim() !== "", { timeout: 20_000 }).toBe(true);
}

const exited = (p: ReturnType<typeof spawn>) => new Promise<string | null>((resolve) => p.once("exit", (_code, signal) => resolve(signal)));

describe("npm test's watchdog", () => {
  it("reports a file past its limit with where its process and children wait, kills both, and returns it", async () => {
    dir = mkdtempSync(path.join(tmpdir(), "talon-watchdog-"));
    const worker = stuckWorker();
    const done = exited(worker);
    await blocked(worker.pid!);
    writeFileSync(path.join(dir, String(worker.pid)), `${Date.now() - 120_000}\t${path.join(ROOT, "tests/api/example.test.ts")}`);
    const reports: string[] = [];
    const stop = watchTestFiles(dir, { limitMs: 60_000, root: ROOT, everyMs: 100, log: (s) => reports.push(s) });
    expect(await done).toBe("SIGKILL");
    const killed = stop();
    expect(killed).toHaveLength(1);
    expect(killed[0]).toMatch(/^tests\/api\/example\.test\.ts \(main thread in futex\w*; children: sleep 300 in \w*nanosleep\w*\)$/);
    expect(reports.join("\n")).toMatch(/watchdog: tests\/api\/example\.test\.ts has run for 2 min \(limit 1\)/);
    expect(reports.join("\n")).toContain("sleep 300");
    expect(readdirSync(tmpdir()).includes(path.basename(dir))).toBe(false);
  });

  it("leaves a file within its limit running, and forgets the records of processes that ended", async () => {
    dir = mkdtempSync(path.join(tmpdir(), "talon-watchdog-"));
    const worker = stuckWorker();
    await blocked(worker.pid!);
    writeFileSync(path.join(dir, String(worker.pid)), `${Date.now()}\ttests/a.test.ts`);
    writeFileSync(path.join(dir, "999999999"), `${Date.now() - 3_600_000}\ttests/ended.test.ts`);
    const stop = watchTestFiles(dir, { limitMs: 60_000, root: ROOT, everyMs: 100, log: () => {} });
    await expect.poll(() => readdirSync(dir)).toEqual([String(worker.pid)]);
    await new Promise((r) => setTimeout(r, 300));
    expect(worker.exitCode).toBeNull();
    expect(stop()).toEqual([]);
    const gone = exited(worker);
    spawnSync("pkill", ["-KILL", "-P", String(worker.pid)]);
    worker.kill("SIGKILL");
    await gone;
  });
});
