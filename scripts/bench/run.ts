/**
 * `npm run bench`: the production server (SQLite + SoftHSM2, temp data dir) against a bare node:http
 * JSON server on the same machine, with autocannon. Prints req/s, p50 and p99 and the ratio to the
 * bare server. Figures, not a test: it exits 0 whatever they are, non-zero only when it cannot start.
 * The crypto-proxy rows run against a local Hardhat (EDR) node started here; the HSM secp256k1 rate
 * is printed after the table, beside the raw PKCS#11 rate.
 * Rows: the issue-10 scenarios (agent JWT read, policy-checked and audited; `ocv_` key read; user JWT
 * read; PUT; agent-token exchange; hosted MCP `tools/call get_secret`; and the agent JWT read by one
 * connection alone, for the latency of a lone client), each with req/s, × floor, the server's CPU
 * µs per request (all its threads, ./cpu.ts: comparable across runs when the floor is not), p50/p99
 * and non-2xx, then the server's RSS after the run and what it is made of (heap, outside the
 * heap; ./memory-preload.mjs), then two Talon instances on one PostgreSQL database with the load split
 * across both (./postgres-two.ts: GET and PUT, summed req/s, the worse p99). Writes JSON to bench-results/ and an SVG
 * chart to docs/perf/bench.svg.
 * Each row first runs its own load unmeasured for BENCH_WARMUP seconds: a row measures the server's
 * steady state, not V8 compiling the row's code path for the first time (measured: in a cold row's first
 * seconds, V8's compiler threads used about a quarter of the server's CPU).
 * env: BENCH_DURATION (seconds, default 10), BENCH_WARMUP (seconds per row before it is measured, default
 *      3; 0 measures from cold), BENCH_CONNECTIONS (default 32), BENCH_SECRETS (default 1000),
 *      BENCH_ONLY (comma-separated row keys, e.g. "agent-jwt,put"; the floor always runs),
 *      BENCH_CHART (path of the SVG, default docs/perf/bench.svg; "off" writes none),
 *      BENCH_PROFILE_DIR (one V8 CPU profile of the server per row there, `<row key>.cpuprofile`; the
 *      PostgreSQL rows write one per instance, `<row key>-a` and `-b`),
 *      BENCH_PERF_DIR (`perf record` of the server per row, summarised there as `<row key>.perf.txt`: CPU
 *      samples by module and function, each booked to its leaf-most JavaScript frame, and by function
 *      anywhere on the stack; ./perf.ts),
 *      BENCH_POSTGRES_URL (for the rows pg2-get and pg2-put: a PostgreSQL server whose user may create
 *      databases; default TEST_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/postgres; an
 *      unreachable server skips those rows, it never fails the run),
 *      BENCH_POSTGRES_DELAY_MS (default 0: those rows' instances reach PostgreSQL through a proxy that
 *      delays each chunk that long each way, as a database on another machine; ./delay-proxy.mjs)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import autocannon, { type Result } from "autocannon";
import { ROOT } from "../build-state.mjs";
import { ensureBuild, freePort, serverPid, startTalon, type TalonProcess, waitHealthy } from "../talon-process";
import { benchSecp256k1, formatSecp256k1Bench } from "./hsm-secp256k1";
import { type EvmNode, startEvmNode } from "../../tests/helpers/evm-node";
import { BENCH_RECIPIENT, setupCryptoProxyAgent } from "./crypto-proxy";
import { checkMcpGetSecret, mcpGetSecretBody, openMcpSession, setupReadAgent } from "./agent";
import { benchChartSvg } from "./chart";
import { withCpuPerRequest } from "./cpu";
import { benchPostgresTwoInstances, type Row } from "./postgres-two";
import { removeRunV8Logs } from "./perf";
import { preloadEnv, profiled } from "./profile";
import { RATE_LIMITS_OFF, secretRequests, seedBenchOrg } from "./seed";

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECRETS = Number(process.env.BENCH_SECRETS ?? 1000);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",").map((k) => k.trim())) : null;
const wanted = (key: string) => ONLY === null || ONLY.has(key);
/** Where the two-instance rows create (and drop) their database: a server whose user may create databases. */
/** Each way, between the two-instance rows' instances and PostgreSQL (BENCH_POSTGRES_DELAY_MS; 0: direct). */
const POSTGRES_DELAY_MS = Number(process.env.BENCH_POSTGRES_DELAY_MS ?? 0);
const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** The server's resident set: start.mjs runs dist/server.mjs as its child, so the figure is the child's (Linux /proc). */
function serverRssMb(launcherPid: number | undefined): number | null {
  if (launcherPid === undefined) return null;
  const childrenFile = `/proc/${launcherPid}/task/${launcherPid}/children`;
  if (!existsSync(childrenFile)) return null;
  const pids = readFileSync(childrenFile, "utf8").trim().split(/\s+/).filter(Boolean);
  let max: number | null = null;
  for (const pid of [String(launcherPid), ...pids]) {
    const m = /VmRSS:\s+(\d+) kB/.exec(existsSync(`/proc/${pid}/status`) ? readFileSync(`/proc/${pid}/status`, "utf8") : "");
    if (m) max = Math.max(max ?? 0, Number(m[1]) / 1024);
  }
  return max;
}

/** What ./memory-preload.mjs last wrote (MB): RSS, V8 heap used/reserved, outside the heap. Null when it never wrote. */
type ServerMemory = { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number; mallocedMemory: number };

async function serverMemory(file: string): Promise<ServerMemory | null> {
  // The preload samples every 500 ms: wait for a sample taken now, not before the load ended.
  await new Promise((r) => setTimeout(r, 1100));
  try {
    return JSON.parse(readFileSync(file, "utf8")) as ServerMemory;
  } catch {
    return null;
  }
}

function formatMemory(m: ServerMemory): string {
  return `RSS ${m.rss.toFixed(0)} MB = V8 heap ${m.heapTotal.toFixed(0)} MB reserved (${m.heapUsed.toFixed(0)} MB live), external ${m.external.toFixed(0)} MB (Buffers ${m.arrayBuffers.toFixed(0)} MB), malloc ${m.mallocedMemory.toFixed(0)} MB, rest code/stacks/native`;
}

// Same process model as Talon (its own process), so the comparison measures the framework and the work.
const BARE_SERVER = `
const http = require("node:http");
const body = JSON.stringify({ status: "ok", service: "bare" });
http.createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}).listen(Number(process.env.PORT), "127.0.0.1", () => process.stdout.write("ready\\n"));
`;

async function startBare(): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["-e", BARE_SERVER], { env: { ...process.env, PORT: String(port) }, stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once("data", () => resolve());
    child.once("exit", (c) => reject(new Error(`bare server exited with ${c}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

function table(rows: Row[], baseline: number) {
  const head = ["scenario", "req/s", "× floor", "CPU µs/req", "p50 ms", "p99 ms", "non-2xx", "errors"];
  const lines = rows.map(({ name, result: r, cpuUs }) => [
    name,
    r.requests.average.toFixed(0),
    (r.requests.average / baseline).toFixed(3),
    cpuUs === null ? "-" : cpuUs.toFixed(0),
    r.latency.p50.toFixed(1),
    r.latency.p99.toFixed(1),
    String(r.non2xx),
    String(r.errors + r.timeouts),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [fmt(head), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(fmt)].join("\n");
}

async function main() {
  ensureBuild();
  const dataDir = mkdtempSync(path.join(tmpdir(), "talon-bench-"));
  let talon: TalonProcess | undefined;
  let bare: ChildProcess | undefined;
  let chain: EvmNode | undefined;
  try {
    // The crypto-proxy rows sign and broadcast to a local Hardhat (EDR) node; without it they are skipped.
    chain = !(wanted("simulate") || wanted("submit")) ? undefined : await startEvmNode().catch((e: unknown) => {
      console.error(`local chain unavailable, simulate/submit rows skipped: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    });
    const memoryFile = path.join(dataDir, "memory.json");
    talon = startTalon({
      dataDir,
      port: await freePort(),
      env: {
        TALON_LOG_LEVEL: "warn",
        ...RATE_LIMITS_OFF,
        ...(chain ? { TALON_CHAIN_RPC_URLS: `localhost=${chain.url}` } : {}),
        // Where the server's memory is (./memory-preload.mjs), and a CPU profile of the server per row,
        // written when it stops (./cpu-profile-preload.mjs).
        ...preloadEnv(["memory-preload.mjs"]),
        BENCH_MEMORY_FILE: memoryFile,
      },
    });
    const startMs = await waitHealthy(talon);
    const idleMemory = await serverMemory(memoryFile);
    console.error(`Talon healthy after ${startMs} ms; seeding ${SECRETS} secrets…`);

    const { token, vaultId, base, paths } = await seedBenchOrg(talon, "", SECRETS);

    const bareServer = await startBare();
    bare = bareServer.child;
    const requests = secretRequests({ base, paths });
    // A row's load, run for `duration` seconds (measure's warm-up, then its measured run).
    let duration = DURATION;
    const run = (url: string, extra: Partial<Parameters<typeof autocannon>[0]> = {}) => autocannon({ url, connections: CONNECTIONS, duration, ...extra });

    const agent = await setupReadAgent(talon.url, token, vaultId);
    const readAs = (credential: string) => ({ requests: [requests.read(credential)] });
    // Each read row is checked once before it is measured: a refusal must fail the bench, not be timed.
    for (const credential of [token, agent.token, agent.apiKey]) {
      const r = await fetch(`${talon.url}${requests.pick()}`, { headers: { Authorization: `Bearer ${credential}` } });
      if (r.status !== 200) throw new Error(`probe read answered ${r.status}: ${await r.text()}`);
      await r.text();
    }

    console.error(`${WARMUP} s of warm-up, then ${DURATION} s per scenario at ${CONNECTIONS} connections…`);
    const rows: Row[] = [];
    const measure = async (key: string, name: string, go: () => Promise<Result>) => {
      if (key !== "floor" && !wanted(key)) return;
      console.error(`  ${name}…`);
      if (WARMUP > 0) {
        duration = WARMUP;
        await go();
      }
      duration = DURATION;
      const pid = key === "floor" ? (bare!.pid ?? null) : serverPid(talon!.child.pid);
      const measured = await withCpuPerRequest([pid], () => (key === "floor" ? go() : profiled([{ launcherPid: talon!.child.pid, name: key }], go)));
      rows.push({ key, name, ...measured });
    };
    await measure("floor", "bare node:http JSON", () => run(bareServer.url));
    await measure("health", "GET /v1/health", () => run(`${talon!.url}/v1/health`));
    await measure("agent-jwt", "GET secret, agent JWT (policy, audit)", () => run(talon!.url, readAs(agent.token)));
    await measure("agent-key", "GET secret, ocv_ key", () => run(talon!.url, readAs(agent.apiKey)));
    await measure("user-jwt", "GET secret, user JWT", () => run(talon!.url, readAs(token)));
    // One client reading in sequence: the latency an agent sees when it is alone on the server.
    await measure("agent-jwt-1", "GET secret, agent JWT, 1 connection", () => run(talon!.url, { ...readAs(agent.token), connections: 1 }));
    await measure("put", "PUT secret (new version)", () =>
run(talon!.url, { requests: [requests.put(token)] }));
    await measure("exchange", "POST /v1/auth/agent-token", () =>
      run(`${talon!.url}/v1/auth/agent-token`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ agent_id: agent.agentId, api_key: agent.apiKey }),
      }),
    );
    if (wanted("mcp")) {
      const session = await openMcpSession(talon.url, agent, vaultId);
      await checkMcpGetSecret(talon.url, session, paths[0]!);
      let id = 2;
      await measure("mcp", "MCP tools/call get_secret", () =>
        run(`${talon!.url}/mcp`, {
          requests: [{ method: "POST", headers: session, setupRequest: (req) => ({ ...req, body: mcpGetSecretBody(id++, paths[id % paths.length]!) }) }],
        }),
      );
    }
    if (chain && (wanted("simulate") || wanted("submit"))) {
      const proxy = await setupCryptoProxyAgent(talon.url, token, vaultId);
      const tx = JSON.stringify({ to: BENCH_RECIPIENT, value: "0.000001", chain: "localhost" });
      const headers = { Authorization: `Bearer ${proxy.token}`, "Content-Type": "application/json" };
      const txPath = `/v1/agents/${proxy.agentId}/transactions`;
      await measure("simulate", "POST simulate (local chain)", () => run(`${talon!.url}${txPath}/simulate`, { method: "POST", headers, body: tx }));
      await measure("submit", "POST submit (sign + broadcast)", () => run(`${talon!.url}${txPath}`, { method: "POST", headers, body: tx }));
    }
    const rssMb = serverRssMb(talon.child.pid);
    const memory = await serverMemory(memoryFile);
    // V8 gives back what it no longer needs once the load stops (its memory reducer starts ~8 s into
    // quiet): what is still held 15 s after the run is what the instance keeps, not garbage in waiting.
    await new Promise((r) => setTimeout(r, 14_000));
    const settledMemory = await serverMemory(memoryFile);
    // The PostgreSQL rows run on their own two instances; this one and the chain stop first so they do not compete.
    await talon.stop();
    await chain?.close();
    chain = undefined;
    try {
      rows.push(...(await benchPostgresTwoInstances({ adminUrl: POSTGRES_ADMIN_URL, wanted, secrets: SECRETS, connections: CONNECTIONS, duration: DURATION, warmup: WARMUP, delayMs: POSTGRES_DELAY_MS })));
    } catch (e) {
      console.error(`PostgreSQL two-instance rows skipped: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
    }

    const baseline = rows[0]!.result.requests.average;
    const title = `Talon benchmark — ${cpus().length} CPUs, Node ${process.version}, SQLite + SoftHSM2, ${CONNECTIONS} connections, ${DURATION} s each after ${WARMUP} s of warm-up, rate limits off`;
    console.log(`\n${title}\n`);
    console.log(table(rows, baseline));
    const onPostgres = rows.filter((r) => r.databaseCpuUs != null);
    if (onPostgres.length > 0) {
      console.log(`\nPostgreSQL's own CPU µs per request (its processes on this machine): ${onPostgres.map((r) => `${r.key} ${r.databaseCpuUs!.toFixed(0)}`).join(", ")}`);
    }
    console.log(`\nRSS of the Talon server after the run: ${rssMb === null ? "unavailable (no /proc)" : `${rssMb.toFixed(0)} MB`}`);
    if (idleMemory) console.log(`  idle, before the load: ${formatMemory(idleMemory)}`);
    if (memory) console.log(`  after the run:         ${formatMemory(memory)}`);
    if (settledMemory) console.log(`  15 s after the run:    ${formatMemory(settledMemory)}`);
    const secp256k1 = wanted("secp256k1") ? await benchSecp256k1(Math.min(DURATION, 5)) : null;
    if (secp256k1) console.log(`\n${formatSecp256k1Bench(secp256k1)}`);
    const outDir = path.join(ROOT, "bench-results");
    mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    const summary = rows.map(({ key, name, result: r, cpuUs, databaseCpuUs }) => ({
      key,
      name,
      rps: r.requests.average,
      xFloor: r.requests.average / baseline,
      cpuUsPerRequest: cpuUs,
      ...(databaseCpuUs !== undefined && { databaseCpuUsPerRequest: databaseCpuUs }),
      p50: r.latency.p50,
      p99: r.latency.p99,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
    }));
    writeFileSync(file, JSON.stringify({ cpus: cpus().length, node: process.version, connections: CONNECTIONS, durationSeconds: DURATION, warmupSeconds: WARMUP, rssMb, idleMemory, memory, settledMemory, summary, rows, secp256k1 }, null, 2));
    const chartPath = process.env.BENCH_CHART ?? path.join(ROOT, "docs/perf/bench.svg");
    if (chartPath !== "off") {
      mkdirSync(path.dirname(chartPath), { recursive: true });
      writeFileSync(chartPath, benchChartSvg(summary.map((s) => ({ name: s.name, rps: s.rps, p50: s.p50, p99: s.p99, non2xx: s.non2xx })), baseline, title));
      console.log(`Chart: ${path.relative(ROOT, chartPath)}`);
    }
    console.log(`\nRaw results: ${path.relative(ROOT, file)}`);
  } catch (e) {
    // What the server said before the failure (its log never holds values or tokens).
    if (talon) console.error(`Talon output (tail):\n${talon.output().split("\n").slice(-20).join("\n")}`);
    throw e;
  } finally {
    bare?.kill("SIGTERM");
    await talon?.stop();
    await chain?.close();
    rmSync(dataDir, { recursive: true, force: true });
    removeRunV8Logs();
  }
}

main().catch((e: unknown) => {
  const cause = e instanceof Error && e.cause instanceof Error ? ` (${e.cause.message})` : "";
  console.error(`bench: cannot run: ${e instanceof Error ? e.message : String(e)}${cause}`);
  process.exit(1);
});
