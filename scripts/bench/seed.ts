/**
 * What every bench instance starts from: a verified user whose org is lifted to the enterprise tier, a
 * vault, and `count` secrets under `bench/`. Shared by the SQLite rows and the two-instance PostgreSQL rows.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import type { Options } from "autocannon";
import { ROOT } from "../build-state.mjs";
import { api, signUpVerified, type TalonProcess } from "../talon-process";

/**
 * One client IP and one user drive all the load: the per-IP and per-principal limits would turn it
 * into a measurement of 429s, so they are off (as behind a proxy that spreads many clients).
 */
export const RATE_LIMITS_OFF: Record<string, string> = {
  TALON_RATE_LIMIT_IP_PER_MINUTE: "0",
  TALON_RATE_LIMIT_PRINCIPAL_PER_MINUTE: "0",
  TALON_RATE_LIMIT_AUTH_PER_MINUTE: "0",
  TALON_MCP_RATE_LIMIT_PER_MINUTE: "0",
};

export type BenchOrg = { token: string; vaultId: string; base: string; paths: string[] };

/** One request of an autocannon load. */
export type LoadRequest = NonNullable<Options["requests"]>[number];

/**
 * The bench's secret requests on `org`, every one naming the next of its secrets in turn: a read and a
 * PUT of a new version, each sent with `credential` as its bearer. `pick` gives the next secret's path.
 */
export function secretRequests(org: Pick<BenchOrg, "base" | "paths">) {
  let i = 0;
  const pick = () => `${org.base}/${org.paths[i++ % org.paths.length]}`;
  return {
    pick,
    read: (credential: string): LoadRequest => ({ method: "GET", headers: { Authorization: `Bearer ${credential}` }, setupRequest: (req) => ({ ...req, path: pick() }) }),
    put: (credential: string): LoadRequest => ({
      method: "PUT",
      headers: { Authorization: `Bearer ${credential}`, "Content-Type": "application/json" },
      setupRequest: (req) => ({ ...req, path: pick(), body: JSON.stringify({ value: `rotated-${i}-${"y".repeat(32)}` }) }),
    }),
  };
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** `databaseUrl` empty: the instance's SQLite file in `talon.dataDir`. */
export async function seedBenchOrg(talon: TalonProcess, databaseUrl: string, count: number): Promise<BenchOrg> {
  const token = await signUpVerified(talon, "bench@talon.test", "benchmark password 0123456789");
  // 1,000 secrets and a flood of requests are far past the free tier: lift the org's plan the way a
  // self-hoster would. Async, not spawnSync: a blocked event loop would miss the server closing idle
  // keep-alive sockets and send the next request on a dead one ("other side closed").
  const tier = spawn(process.execPath, [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "scripts/set-tier.ts", "--org", "bench@talon.test", "--tier", "enterprise"], {
    cwd: ROOT,
    env: { ...process.env, TALON_DATA_DIR: talon.dataDir, DATABASE_URL: databaseUrl },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const tierStatus = await new Promise<number | null>((resolve) => tier.once("exit", (code) => resolve(code)));
  if (tierStatus !== 0) throw new Error("billing:set-tier failed");
  const vault = await api(talon.url, "POST", "/v1/vaults", { name: "bench" }, token);
  if (vault.status !== 201) throw new Error(`create vault answered ${vault.status}: ${JSON.stringify(vault.body)}`);
  const vaultId = String(vault.body.id);
  const base = `/v1/vaults/${vaultId}/secrets`;
  const paths = Array.from({ length: count }, (_, i) => `bench/service-${i}/api-key`);
  await pool(paths, 16, async (p) => {
    const r = await api(talon.url, "PUT", `${base}/${p}`, { value: `value-${p}-${"x".repeat(32)}`, type: "api_key" }, token);
    if (r.status !== 201) throw new Error(`seeding ${p} answered ${r.status}: ${JSON.stringify(r.body)}`);
  });
  return { token, vaultId, base, paths };
}
