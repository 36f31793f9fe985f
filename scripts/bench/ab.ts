/**
 * `npm run bench:ab -- <git revision>`: this checkout's build against another revision's, on a machine
 * too noisy for two separate runs to compare (a shared VM: one build's floor measured 24,000 and 41,000
 * req/s in two runs an hour apart, docs/perf/README.md). Both servers run at once, each seeded as
 * `npm run bench` seeds its one (an org, a vault of BENCH_SECRETS secrets, a read agent), and each row
 * loads them in turn in short bursts (AB_SECONDS, default 3 s at BENCH_CONNECTIONS), the order swapped
 * every round, for AB_ROUNDS rounds (default 10) after one unmeasured burst each. What the machine does
 * meanwhile falls on both alike; a disturbance inside one burst shows as that round's outlying ratio.
 * Prints per build its req/s and CPU µs per request over all its bursts, and the per-round ratio of
 * this checkout's requests to the other's (median, min, max). Figures only: it never fails on them.
 *
 * The other revision is checked out into a temporary git worktree beside this one, with this checkout's
 * node_modules hard-linked into it (`cp -al`: no download, no copy; the two lockfiles should agree) and
 * its Prisma clients copied, and built there (`node scripts/build.mjs`); the worktree is removed
 * afterwards. env: AB_ROWS (comma-separated: agent-jwt, user-jwt, agent-key, put; default
 * "agent-jwt,put"), AB_ROUNDS, AB_SECONDS, BENCH_CONNECTIONS (default 32), BENCH_SECRETS (default 1000).
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import autocannon, { type Options } from "autocannon";
import { ROOT } from "../build-state.mjs";
import { statFields } from "../processes.mjs";

const ROUNDS = Number(process.env.AB_ROUNDS ?? 10);
const SECONDS = Number(process.env.AB_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECRETS = Number(process.env.BENCH_SECRETS ?? 1000);
const ROWS = (process.env.AB_ROWS ?? "agent-jwt,put").split(",").map((r) => r.trim());
const KNOWN_ROWS = ["agent-jwt", "user-jwt", "agent-key", "put"];
const TICKS_PER_SECOND = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;

const cpuMs = (pid: number) => {
  const f = statFields(pid);
  if (!f) throw new Error(`server ${pid} has gone`);
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SECOND;
};

type Load = () => Partial<Options>;
type Build = { label: string; url: string; pid: number; rows: Record<string, Load>; stop(): Promise<void> };

/** One build's server (the checkout at `root`, started with that checkout's own scripts), seeded. */
async function serve(root: string, label: string): Promise<Build> {
  const tp = (await import(path.join(root, "scripts/talon-process.ts"))) as typeof import("../talon-process");
  const seed = (await import(path.join(root, "scripts/bench/seed.ts"))) as typeof import("./seed");
  const agents = (await import(path.join(root, "scripts/bench/agent.ts"))) as typeof import("./agent");
  const dataDir = mkdtempSync(path.join(tmpdir(), "talon-ab-"));
  const talon = tp.startTalon({ dataDir, port: await tp.freePort(), env: { TALON_LOG_LEVEL: "warn", ...seed.RATE_LIMITS_OFF } });
  try {
    await tp.waitHealthy(talon);
    const { token, vaultId, base, paths } = await seed.seedBenchOrg(talon, "", SECRETS);
    const agent = await agents.setupReadAgent(talon.url, token, vaultId);
    let i = 0;
    const pick = () => `${base}/${paths[i++ % paths.length]}`;
    const read = (credential: string): Load => () => ({
      requests: [{ method: "GET", headers: { Authorization: `Bearer ${credential}` }, setupRequest: (req) => ({ ...req, path: pick() }) }],
    });
    const put: Load = () => ({
      requests: [
        {
          method: "PUT",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          setupRequest: (req) => ({ ...req, path: pick(), body: JSON.stringify({ value: `rotated-${i}-${"y".repeat(32)}` }) }),
        },
      ],
    });
    const pid = tp.serverPid(talon.child.pid);
    if (pid === null) throw new Error(`${label}: no server process`);
    const stop = async () => {
      await talon.stop();
      rmSync(dataDir, { recursive: true, force: true });
    };
    return { label, url: talon.url, pid, rows: { "agent-jwt": read(agent.token), "user-jwt": read(token), "agent-key": read(agent.apiKey), put }, stop };
  } catch (e) {
    await talon.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
}

async function burst(b: Build, row: string, seconds: number): Promise<{ requests: number; cpuMs: number }> {
  const before = cpuMs(b.pid);
  const r = await autocannon({ url: b.url, connections: CONNECTIONS, duration: seconds, ...b.rows[row]!() });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${b.label} ${row}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { requests: r.requests.total, cpuMs: cpuMs(b.pid) - before };
}

/** The other revision built in a temporary worktree; `remove` deletes it. */
function worktreeOf(rev: string): { root: string; remove(): void } {
  const root = mkdtempSync(path.join(tmpdir(), "talon-ab-tree-"));
  const git = (...args: string[]) => {
    const r = spawnSync("git", args, { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
    if (r.status !== 0) throw new Error(`git ${args.join(" ")} failed`);
  };
  git("worktree", "add", "--detach", "--force", root, rev);
  const remove = () => {
    spawnSync("git", ["worktree", "remove", "--force", root], { cwd: ROOT, stdio: "ignore" });
    rmSync(root, { recursive: true, force: true });
  };
  try {
    // Hard links, not a symlink: Next.js's Turbopack refuses a node_modules outside the project root.
    const linked = spawnSync("cp", ["-al", path.join(ROOT, "node_modules"), path.join(root, "node_modules")], { stdio: "inherit" });
    if (linked.status !== 0) throw new Error("could not link node_modules into the worktree");
    cpSync(path.join(ROOT, "generated"), path.join(root, "generated"), { recursive: true });
    console.error(`building ${rev} in ${root}…`);
    const built = spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
    if (built.status !== 0) throw new Error(`building ${rev} failed`);
  } catch (e) {
    remove();
    throw e;
  }
  return { root, remove };
}

/** The per-round ratios' median, min and max. */
function ratioSummary(ratios: readonly number[]): { median: number; min: number; max: number } {
  if (ratios.length === 0) throw new Error("no rounds");
  const s = [...ratios].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2, min: s[0]!, max: s[s.length - 1]! };
}

async function main() {
  const rev = process.argv[2];
  if (!rev) throw new Error("usage: npm run bench:ab -- <git revision to compare this checkout with>");
  const unknown = ROWS.filter((r) => !KNOWN_ROWS.includes(r));
  if (unknown.length > 0) throw new Error(`AB_ROWS: unknown ${unknown.join(", ")} (known: ${KNOWN_ROWS.join(", ")})`);
  const other = worktreeOf(rev);
  const builds: Build[] = [];
  try {
    spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
    builds.push(await serve(other.root, rev), await serve(ROOT, "this checkout"));
    console.error(`${ROUNDS} rounds of ${SECONDS} s bursts per row, the order swapped each round…`);
    for (const row of ROWS) {
      for (const b of builds) await burst(b, row, SECONDS);
      const totals = builds.map(() => ({ requests: 0, cpuMs: 0 }));
      const ratios: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const got: { requests: number; cpuMs: number }[] = [];
        for (const k of round % 2 === 0 ? [0, 1] : [1, 0]) {
          got[k] = await burst(builds[k]!, row, SECONDS);
          totals[k]!.requests += got[k]!.requests;
          totals[k]!.cpuMs += got[k]!.cpuMs;
        }
        ratios.push(got[1]!.requests / got[0]!.requests);
      }
      const r = ratioSummary(ratios);
      const each = builds.map((b, k) => `${b.label}: ${Math.round(totals[k]!.requests / (ROUNDS * SECONDS))} req/s, ${((totals[k]!.cpuMs * 1000) / totals[k]!.requests).toFixed(1)} µs CPU/req`);
      console.log(`${row}  ${each.join("  |  ")}  |  this/other per round: median ${r.median.toFixed(3)} (${r.min.toFixed(3)}–${r.max.toFixed(3)})`);
    }
  } finally {
    for (const b of builds) await b.stop();
    other.remove();
  }
}

main().catch((e: unknown) => {
  console.error(`bench:ab: cannot run: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
