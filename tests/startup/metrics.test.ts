import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { api, ensureBuild, freePort, startTalon, type TalonProcess, waitHealthy } from "../../scripts/talon-process";
import { createPostgresDatabase, testDialect } from "../helpers/server";

/**
 * The production server (`npm start`) serves Prometheus metrics on their own listener, beside the
 * main one and closed with it; the main port's /metrics is the dashboard's (a Next.js 404), never
 * metrics; an address that cannot be used stops start-up with one line naming TALON_METRICS_ADDR.
 */
const BUILD_TIMEOUT_MS = 20 * 60_000;
const cleanups: (() => Promise<void> | void)[] = [];
const running = new Set<TalonProcess>();

async function instance(env: Record<string, string>): Promise<TalonProcess> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "talon-metrics-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  if (testDialect === "postgres") {
    const db = await createPostgresDatabase();
    cleanups.push(() => db.drop());
    env = { DATABASE_URL: db.url, ...env };
  }
  const p = startTalon({ dataDir, port: await freePort(), env });
  running.add(p);
  void p.exited.then(() => running.delete(p));
  return p;
}

const outputLines = (text: string) => text.split("\n").filter((l) => l.trim() !== "" && !/^. Running next\.config\.ts took/.test(l));

beforeAll(() => ensureBuild(), BUILD_TIMEOUT_MS);
afterAll(async () => {
  await Promise.all([...running].map((p) => p.stop()));
  for (const c of cleanups.reverse()) await c();
});

test("metrics on their own port, counting API requests; the main port's /metrics is Next.js's 404; both close on SIGTERM", async () => {
  const metricsPort = await freePort();
  const p = await instance({ TALON_METRICS_ADDR: `127.0.0.1:${metricsPort}` });
  await waitHealthy(p);
  expect((await api(p.url, "GET", "/v1/health")).status).toBe(200);

  const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(scraped.status).toBe(200);
  const text = await scraped.text();
  expect(text).toMatch(/^talon_http_request_duration_seconds_count\{method="GET",route="\/v1\/health",status="200"\} [1-9]/m);
  expect(text).toContain("nodejs_eventloop_lag_seconds");
  expect(p.output()).toContain(`"url":"http://127.0.0.1:${metricsPort}/metrics"`);

  for (const route of ["/metrics", "/metrics/"]) {
    const main = await fetch(`${p.url}${route}`);
    expect(main.status).toBe(404);
    expect(main.headers.get("content-type")).toMatch(/^text\/html/);
    const body = await main.text();
    expect(body).not.toContain("talon_http_request_duration_seconds");
    expect(body).not.toContain("# TYPE");
  }

  expect(await p.stop()).toBe(0);
  expect(await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.status, () => "refused")).toBe("refused");
});

test("TALON_METRICS_ADDR=off starts no metrics listener", async () => {
  const p = await instance({ TALON_METRICS_ADDR: "off" });
  await waitHealthy(p);
  expect(p.output()).toContain('"msg":"listening"');
  expect(p.output()).not.toContain("metrics listening");
  expect(await p.stop()).toBe(0);
});

test("a malformed TALON_METRICS_ADDR exits with one line naming it", async () => {
  const p = await instance({ TALON_METRICS_ADDR: "9464" });
  expect(await p.exited).toBe(1);
  expect(outputLines(p.output())).toEqual(["talon: Invalid configuration: TALON_METRICS_ADDR must be host:port (e.g. 127.0.0.1:9464 or [::1]:9464) or off"]);
});

test("a metrics port already in use exits with one line naming TALON_METRICS_ADDR", async () => {
  const taken: Server = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const port = (taken.address() as { port: number }).port;
  const p = await instance({ TALON_METRICS_ADDR: `127.0.0.1:${port}` });
  expect(await p.exited).toBe(1);
  const lines = outputLines(p.output()).filter((l) => l.startsWith("talon: "));
  expect(lines).toEqual([`talon: cannot serve metrics on 127.0.0.1:${port}: port ${port} is already in use (set TALON_METRICS_ADDR, or off)`]);
});
