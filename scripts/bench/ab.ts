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
import autocannon from "autocannon";
import { ROOT } from "../build-state.mjs";
import { ensureBuild } from "../talon-process";
import { withCpuPerRequest } from "./cpu";
import { type LoadRequest, secretRequests } from "./seed";

const ROUNDS = Number(process.env.AB_ROUNDS ?? 10);
const SECONDS = Number(process.env.AB_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECRETS = Number(process.env.BENCH_SECRETS ?? 1000);
const ROWS = (process.env.AB_ROWS ?? "agent-jwt,put").split(",").map((r) => r.trim());
const KNOWN_ROWS = ["agent-jwt", "user-jwt", "agent-key", "put"];

type Build = { label: string; url: string; pid: number; rows: Record<string, LoadRequest>; stop(): Promise<void> };

/**
 * One build's server (the checkout at `root`, started and seeded with that checkout's own scripts),
 * loaded with this checkout's requests: both builds get the same load.
 */
async function serve(root: string, label: string): Promise<Build> {
  const tp = (await import(path.join(root, "scripts/talon-process.ts"))) as typeof import("../talon-process");
  const seed = (await import(path.join(root, "scripts/bench/seed.ts"))) as typeof import("./seed");
  const agents = (await import(path.join(root, "scripts/bench/agent.ts"))) as typeof import("./agent");
  const dataDir = mkdtempSync(path.join(tmpdir(), "talon-ab-"));
  const talon = tp.startTalon({ dataDir, port: await tp.freePort(), env: { TALON_LOG_LEVEL: "warn", ...seed.RATE_LIMITS_OFF } });
  const stop = async () => {
    await talon.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await tp.waitHealthy(talon);
    const org = await seed.seedBenchOrg(talon, "", SECRETS);
    const agent = await agents.setupReadAgent(talon.url, org.token, org.vaultId);
    const requests = secretRequests(org);
    const pid = tp.serverPid(talon.child.pid);
    if (pid === null) throw new Error(`${label}: no server process`);
    const rows = { "agent-jwt": requests.read(agent.token), "user-jwt": requests.read(org.token), "agent-key": requests.read(agent.apiKey), put: requests.put(org.token) };
    return { label, url: talon.url, pid, rows, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function burst(b: Build, row: string, seconds: number): Promise<{ requests: number; cpuUs: number }> {
  const { result: r, cpuUs } = await withCpuPerRequest([b.pid], () => autocannon({ url: b.url, connections: CONNECTIONS, duration: seconds, requests: [b.rows[row]!] }));
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${b.label} ${row}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  if (cpuUs === null) throw new Error(`${b.label}: its server's CPU time cannot be read (gone, or no /proc)`);
  return { requests: r.requests.total, cpuUs };
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
    ensureBuild();
    builds.push(await serve(other.root, rev), await serve(ROOT, "this checkout"));
    console.error(`${ROUNDS} rounds of ${SECONDS} s bursts per row, the order swapped each round…`);
    for (const row of ROWS) {
      for (const b of builds) await burst(b, row, SECONDS);
      // CPU summed as µs a request × requests: the total µs, divided by all requests below.
      const totals = builds.map(() => ({ requests: 0, cpuUs: 0 }));
      const ratios: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const got: { requests: number; cpuUs: number }[] = [];
        for (const k of round % 2 === 0 ? [0, 1] : [1, 0]) {
          got[k] = await burst(builds[k]!, row, SECONDS);
          totals[k]!.requests += got[k]!.requests;
          totals[k]!.cpuUs += got[k]!.cpuUs * got[k]!.requests;
        }
        ratios.push(got[1]!.requests / got[0]!.requests);
      }
      const r = ratioSummary(ratios);
      const each = builds.map((b, k) => `${b.label}: ${Math.round(totals[k]!.requests / (ROUNDS * SECONDS))} req/s, ${(totals[k]!.cpuUs / totals[k]!.requests).toFixed(1)} µs CPU/req`);
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
