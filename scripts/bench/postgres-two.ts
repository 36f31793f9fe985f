/**
 * The issue-10 row "PostgreSQL, two Talon instances behind one load generator": two production
 * servers (`npm start`'s) on one fresh PostgreSQL database and one data dir (so one SoftHSM2 token: the
 * same master key and token-signing key, as instances behind a load balancer share their HSM), the
 * same issuer URL, and half the connections on each, both loads at once. A row's req/s is the sum of
 * the two, its p50/p99 the worse instance's, its non-2xx and errors the sum. The agent's token comes
 * from instance A and is read with on B as well: a row would fail its probe if the instances did not
 * share keys and database.
 * With `delayMs` (BENCH_POSTGRES_DELAY_MS) the instances reach PostgreSQL through ./delay-proxy.mjs,
 * which delays every chunk that long each way: a database on another machine, where a round trip costs
 * network time (the rows' names say how much). Seeding goes direct.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import autocannon, { type Result } from "autocannon";
import pg from "pg";
import { ROOT } from "../build-state.mjs";
import { freePort, serverPid, startTalon, type TalonProcess, waitHealthy } from "../talon-process";
import { usPerRequest, withCpuOfProcessesNamed, withCpuPerRequest } from "./cpu";
import { setupReadAgent } from "./agent";
import { preloadEnv, profiled } from "./profile";
import { type LoadRequest, RATE_LIMITS_OFF, secretRequests, seedBenchOrg } from "./seed";

/**
 * `cpuUs`: the servers' CPU µs per request under the row (./cpu.ts), null where it cannot be read;
 * `databaseCpuUs`: on the PostgreSQL rows, PostgreSQL's own (its processes on this machine), null when
 * it runs elsewhere.
 */
export type Row = { key: string; name: string; result: Result; cpuUs: number | null; databaseCpuUs?: number | null };

export const POSTGRES_ROW_KEYS = ["pg2-get", "pg2-put"] as const;

type Options = {
  /** A PostgreSQL URL whose user may create databases; the bench's database is made beside it and dropped after. */
  adminUrl: string;
  wanted: (key: string) => boolean;
  secrets: number;
  connections: number;
  duration: number;
  /** Seconds of each row's load, unmeasured, before its measured run. */
  warmup: number;
  /** Each way, for every chunk between the instances and PostgreSQL (0: direct). */
  delayMs: number;
};

/** ./delay-proxy.mjs in front of `url`'s server; resolves with the URL through it once it listens. */
async function delayProxy(url: string, delayMs: number): Promise<{ url: string; child: ChildProcess }> {
  const target = new URL(url);
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, "scripts/bench/delay-proxy.mjs"), String(port), target.hostname, target.port || "5432", String(delayMs)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the delay proxy exited (${code})`)));
    child.stdout!.once("data", () => resolve());
  });
  const through = new URL(url);
  through.hostname = "127.0.0.1";
  through.port = String(port);
  return { url: through.toString(), child };
}

async function createDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `talon_bench_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const run = async (sql: string) => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** Both instances' results as one: summed rates and counts, the worse latencies; each instance's own result kept beside. */
function combined(results: Result[]): Result {
  const sum = (f: (r: Result) => number) => results.reduce((s, r) => s + f(r), 0);
  const worst = (f: (r: Result) => number) => Math.max(...results.map(f));
  const first = results[0]!;
  return {
    ...first,
    requests: { ...first.requests, average: sum((r) => r.requests.average), total: sum((r) => r.requests.total) },
    latency: { ...first.latency, p50: worst((r) => r.latency.p50), p99: worst((r) => r.latency.p99) },
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    instances: results,
  } as Result;
}

export async function benchPostgresTwoInstances(opts: Options): Promise<Row[]> {
  if (!POSTGRES_ROW_KEYS.some((k) => opts.wanted(k))) return [];
  const dataDir = mkdtempSync(path.join(tmpdir(), "talon-bench-pg-"));
  const instances: TalonProcess[] = [];
  let db: Awaited<ReturnType<typeof createDatabase>> | undefined;
  let proxy: ChildProcess | undefined;
  try {
    db = await createDatabase(opts.adminUrl);
    let databaseUrl = db.url;
    if (opts.delayMs > 0) ({ url: databaseUrl, child: proxy } = await delayProxy(db.url, opts.delayMs));
    const over = opts.delayMs > 0 ? ` (+${2 * opts.delayMs} ms round trip)` : "";
    // The issuer is part of every token: identical on both, as behind one public URL.
    const env = { TALON_LOG_LEVEL: "warn", DATABASE_URL: databaseUrl, TALON_PUBLIC_URL: "http://talon-bench.test", ...RATE_LIMITS_OFF, ...preloadEnv([]) };
    // One after the other: the first creates the SoftHSM2 token and migrates, the second finds both.
    for (let n = 0; n < 2; n++) {
      const talon = startTalon({ dataDir, port: await freePort(), env });
      instances.push(talon);
      await waitHealthy(talon);
    }
    const [a, b] = instances as [TalonProcess, TalonProcess];
    console.error(`PostgreSQL: two instances healthy; seeding ${opts.secrets} secrets…`);
    const org = await seedBenchOrg(a, db.url, opts.secrets);
    const agent = await setupReadAgent(a.url, org.token, org.vaultId);
    const requests = secretRequests(org);
    for (const talon of instances) {
      const r = await fetch(`${talon.url}${requests.pick()}`, { headers: { Authorization: `Bearer ${agent.token}` } });
      if (r.status !== 200) throw new Error(`probe read on ${talon.url} answered ${r.status}: ${await r.text()}`);
      await r.text();
    }
    const load = (request: LoadRequest, duration: number) =>
      Promise.all([a, b].map((t) => autocannon({ url: t.url, connections: Math.max(1, Math.floor(opts.connections / 2)), duration, requests: [request] })));
    // The CPU per request is both instances'; PostgreSQL's own is measured beside it (databaseCpuUs).
    const both = async (key: string, request: LoadRequest): Promise<Omit<Row, "key" | "name">> => {
      if (opts.warmup > 0) await load(request, opts.warmup);
      const { result: measured, cpuMs: databaseMs } = await withCpuOfProcessesNamed("postgres", () =>
        withCpuPerRequest([serverPid(a.child.pid), serverPid(b.child.pid)], async () =>
          combined(
            await profiled([{ launcherPid: a.child.pid, name: `${key}-a` }, { launcherPid: b.child.pid, name: `${key}-b` }], () => load(request, opts.duration)),
          ),
        ),
      );
      return { ...measured, databaseCpuUs: usPerRequest(databaseMs, measured.result.requests.total) };
    };
    const rows: Row[] = [];
    if (opts.wanted("pg2-get")) {
      console.error("  PostgreSQL, 2 instances: GET secret, agent JWT…");
      const measured = await both("pg2-get", requests.read(agent.token));
      rows.push({ key: "pg2-get", name: `PostgreSQL ×2${over}: GET secret, agent JWT`, ...measured });
    }
    if (opts.wanted("pg2-put")) {
      console.error("  PostgreSQL, 2 instances: PUT secret…");
      const measured = await both("pg2-put", requests.put(org.token));
      rows.push({ key: "pg2-put", name: `PostgreSQL ×2${over}: PUT secret`, ...measured });
    }
    return rows;
  } catch (e) {
    for (const talon of instances) console.error(`Talon (PostgreSQL) output (tail):\n${talon.output().split("\n").slice(-10).join("\n")}`);
    throw e;
  } finally {
    await Promise.all(instances.map((t) => t.stop()));
    proxy?.kill();
    await db?.drop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}
