/**
 * `npm run bench`: the production server (SQLite + SoftHSM2, temp data dir) against a bare node:http
 * JSON server on the same machine, with autocannon. Prints req/s, p50 and p99 and the ratio to the
 * bare server. Figures, not a test: it exits 0 whatever they are, non-zero only when it cannot start.
 * The crypto-proxy rows run against a local Hardhat (EDR) node started here; the HSM secp256k1 rate
 * is printed after the table, beside the raw PKCS#11 rate.
 * env: BENCH_DURATION (seconds, default 10), BENCH_CONNECTIONS (default 32), BENCH_SECRETS (default 1000)
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import autocannon, { type Result } from "autocannon";
import { ROOT } from "../build-state.mjs";
import { api, ensureBuild, freePort, signUpVerified, startTalon, type TalonProcess, waitHealthy } from "../talon-process";
import { benchSecp256k1, formatSecp256k1Bench } from "./hsm-secp256k1";
import { type EvmNode, startEvmNode } from "../../tests/helpers/evm-node";
import { BENCH_RECIPIENT, setupCryptoProxyAgent } from "./crypto-proxy";

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECRETS = Number(process.env.BENCH_SECRETS ?? 1000);

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

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

type Row = { name: string; result: Result };

function table(rows: Row[], baseline: number) {
  const head = ["scenario", "req/s", "p50 ms", "p99 ms", "vs bare", "non-2xx", "errors"];
  const lines = rows.map(({ name, result: r }) => [
    name,
    r.requests.average.toFixed(0),
    r.latency.p50.toFixed(1),
    r.latency.p99.toFixed(1),
    `${((r.requests.average / baseline) * 100).toFixed(0)} %`,
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
    chain = await startEvmNode().catch((e: unknown) => {
      console.error(`local chain unavailable, simulate/submit rows skipped: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    });
    // One client IP and one user drive all the load: the per-IP and per-principal limits would turn
    // it into a measurement of 429s, so they are off (as behind a proxy that spreads many clients).
    talon = startTalon({
      dataDir,
      port: await freePort(),
      env: {
        TALON_LOG_LEVEL: "warn",
        TALON_RATE_LIMIT_IP_PER_MINUTE: "0",
        TALON_RATE_LIMIT_PRINCIPAL_PER_MINUTE: "0",
        TALON_RATE_LIMIT_AUTH_PER_MINUTE: "0",
        ...(chain ? { TALON_CHAIN_RPC_URLS: `localhost=${chain.url}` } : {}),
      },
    });
    const startMs = await waitHealthy(talon);
    console.error(`Talon healthy after ${startMs} ms; seeding ${SECRETS} secrets…`);

    const token = await signUpVerified(talon, "bench@talon.test", "benchmark password 0123456789");
    // 1,000 secrets and a flood of requests are far past the free tier: lift the org's plan the way a
    // self-hoster would.
    const tier = spawnSync(process.execPath, [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "scripts/set-tier.ts", "--org", "bench@talon.test", "--tier", "enterprise"], {
      cwd: ROOT,
      env: { ...process.env, TALON_DATA_DIR: dataDir, DATABASE_URL: "" },
      stdio: ["ignore", "ignore", "inherit"],
    });
    if (tier.status !== 0) throw new Error("billing:set-tier failed");
    const vault = await api(talon.url, "POST", "/v1/vaults", { name: "bench" }, token);
    if (vault.status !== 201) throw new Error(`create vault answered ${vault.status}: ${JSON.stringify(vault.body)}`);
    const base = `/v1/vaults/${String(vault.body.id)}/secrets`;
    const paths = Array.from({ length: SECRETS }, (_, i) => `bench/service-${i}/api-key`);
    await pool(paths, 16, async (p) => {
      const r = await api(talon!.url, "PUT", `${base}/${p}`, { value: `value-${p}-${"x".repeat(32)}`, type: "api_key" }, token);
      if (r.status !== 201) throw new Error(`seeding ${p} answered ${r.status}: ${JSON.stringify(r.body)}`);
    });

    const bareServer = await startBare();
    bare = bareServer.child;
    const auth = { Authorization: `Bearer ${token}` };
    let i = 0;
    const pick = () => `${base}/${paths[i++ % paths.length]}`;
    const run = (url: string, extra: Partial<Parameters<typeof autocannon>[0]> = {}) =>
      autocannon({ url, connections: CONNECTIONS, duration: DURATION, ...extra });

    console.error(`Warming up, then ${DURATION} s per scenario at ${CONNECTIONS} connections…`);
    await run(`${talon.url}/v1/health`, { duration: 2 });
    const rows: Row[] = [];
    rows.push({ name: "bare node:http JSON", result: await run(bareServer.url) });
    rows.push({ name: "GET /v1/health", result: await run(`${talon.url}/v1/health`) });
    rows.push({
      name: "GET secret (authenticated)",
      result: await run(talon.url, { requests: [{ method: "GET", headers: auth, setupRequest: (req) => ({ ...req, path: pick() }) }] }),
    });
    rows.push({
      name: "PUT secret (new version)",
      result: await run(talon.url, {
        requests: [
          {
            method: "PUT",
            headers: { ...auth, "Content-Type": "application/json" },
            setupRequest: (req) => ({ ...req, path: pick(), body: JSON.stringify({ value: `rotated-${i}-${"y".repeat(32)}` }) }),
          },
        ],
      }),
    });
    if (chain) {
      const proxy = await setupCryptoProxyAgent(talon.url, token, String(vault.body.id));
      const tx = JSON.stringify({ to: BENCH_RECIPIENT, value: "0.000001", chain: "localhost" });
      const headers = { Authorization: `Bearer ${proxy.token}`, "Content-Type": "application/json" };
      const txPath = `/v1/agents/${proxy.agentId}/transactions`;
      rows.push({ name: "POST simulate (local chain)", result: await run(`${talon.url}${txPath}/simulate`, { method: "POST", headers, body: tx }) });
      rows.push({ name: "POST submit (sign + broadcast)", result: await run(`${talon.url}${txPath}`, { method: "POST", headers, body: tx }) });
    }

    const baseline = rows[0]!.result.requests.average;
    console.log(`\nTalon benchmark — ${cpus().length} CPUs, Node ${process.version}, SQLite + SoftHSM2, ${CONNECTIONS} connections, ${DURATION} s each, rate limits off\n`);
    console.log(table(rows, baseline));
    const secp256k1 = await benchSecp256k1(Math.min(DURATION, 5));
    console.log(`\n${formatSecp256k1Bench(secp256k1)}`);
    const outDir = path.join(ROOT, "bench-results");
    mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    writeFileSync(file, JSON.stringify({ cpus: cpus().length, node: process.version, connections: CONNECTIONS, durationSeconds: DURATION, rows, secp256k1 }, null, 2));
    console.log(`\nRaw results: ${path.relative(ROOT, file)}`);
  } finally {
    bare?.kill("SIGTERM");
    await talon?.stop();
    await chain?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench: cannot run: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
