import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { register as globalRegistry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiApp } from "../../server/api/app";
import { ConfigError, loadConfig } from "../../server/config";
import { createDispatcher, isApiPath } from "../../server/http/node-listener";
import { createMetrics, UNMATCHED_ROUTE } from "../../server/metrics";
import { type MetricsListener, startMetricsListener } from "../../server/metrics/listener";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";

/**
 * `GET /metrics` (Prometheus text) on its own listener: real requests through a real server move the
 * counters under the router's route templates; nothing a client sent (ids, paths, values, tokens, raw
 * URLs) ever becomes a label; the API's own port never serves metrics.
 */

type Sample = { name: string; labels: Record<string, string>; value: number };

/** The exposition format's sample lines: `name{a="x",b="y"} value`. */
function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

const SECRET_ROUTE = "/v1/vaults/:id/secrets/:path{.+}";

let server: TestServer;
let metrics: MetricsListener;
let scrapeUrl: string;

const scrape = async () => {
  const res = await fetch(scrapeUrl);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, samples: parseMetrics(text), contentType: res.headers.get("content-type") ?? "" };
};

beforeAll(async () => {
  server = await startTestServer({
    env: { TALON_METRICS_ADDR: "127.0.0.1:0", TALON_RATE_LIMIT_PRINCIPAL_PER_MINUTE: "25" },
  });
  metrics = await startMetricsListener(server.rt.metrics, server.rt.config.metricsAddr!);
  scrapeUrl = `http://127.0.0.1:${metrics.port}/metrics`;
});
afterAll(async () => {
  await metrics?.close();
  await server?.close();
});

describe("metrics listener", () => {
  it("listens on the configured address (port 0 → a free port), not on the API's port", () => {
    expect(server.rt.config.metricsAddr).toEqual({ host: "127.0.0.1", port: 0 });
    expect(metrics.host).toBe("127.0.0.1");
    expect(metrics.port).toBeGreaterThan(0);
    expect(server.url).not.toContain(`:${metrics.port}`);
  });

  it("serves the Prometheus text format at /metrics, with process metrics (event-loop lag)", async () => {
    const { samples, contentType } = await scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(samples.some((s) => s.name === "nodejs_eventloop_lag_seconds")).toBe(true);
    expect(samples.some((s) => s.name === "nodejs_eventloop_lag_p99_seconds")).toBe(true);
    expect(samples.some((s) => s.name === "process_resident_memory_bytes")).toBe(true);
  });

  it("serves only /metrics: other paths 404, other methods 405, HEAD without a body", async () => {
    const base = `http://127.0.0.1:${metrics.port}`;
    const other = await fetch(`${base}/v1/health`);
    expect(other.status).toBe(404);
    expect(await other.text()).not.toContain("talon_");
    const post = await fetch(`${base}/metrics`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    const head = await fetch(`${base}/metrics`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("the API's port never serves metrics: /metrics is not an API path and goes to the dashboard (Next.js)", async () => {
    for (const p of ["/metrics", "/metrics/", "/METRICS"]) expect(isApiPath(p)).toBe(false);
    // As server.ts wires it: API paths to the API app, everything else to Next.js (a stand-in here).
    const reachedNext: string[] = [];
    const main: Server = createServer(
      createDispatcher(createApiApp(server.rt), (req, res) => {
        reachedNext.push(req.url ?? "");
        res.writeHead(404, { "Content-Type": "text/html" }).end("<h1>404: This page could not be found.</h1>");
      }),
    );
    await new Promise<void>((resolve) => main.listen(0, "127.0.0.1", resolve));
    try {
      const base = `http://127.0.0.1:${(main.address() as AddressInfo).port}`;
      for (const p of ["/metrics", "/metrics/", "/v1/metrics", "/metrics?format=prometheus"]) {
        const res = await fetch(base + p);
        expect(res.status).toBe(404);
        const text = await res.text();
        expect(text).not.toContain("talon_http_request_duration_seconds");
        expect(text).not.toContain("# TYPE");
      }
      expect(reachedNext).toEqual(["/metrics", "/metrics/", "/metrics?format=prometheus"]);
    } finally {
      main.closeAllConnections();
      await new Promise((r) => main.close(r));
    }
    // The test server (API app only) answers /metrics with a problem, not metrics.
    const direct = await fetch(`${server.url}/metrics`);
    expect(direct.status).toBe(404);
    expect(await direct.text()).not.toContain("# TYPE");
  });
});

describe("what the metrics count", () => {
  it("requests by route template and status, secret reads and writes, auth failures, rate-limit refusals, HSM, cache, audit", async () => {
    const alice = await signUpVerified(server);
    const api = client(server.url, alice.token);
    const vault = await api.post("/v1/vaults", { name: `metrics-${randomUUID().slice(0, 8)}` });
    expect(vault.status).toBe(201);
    const vaultId = vault.body.id as string;
    const before = (await scrape()).samples;

    const secretPath = `canary-dir/canary-path-${randomUUID()}`;
    const value = `canary-value-${randomUUID()}`;
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/${secretPath}`, { value })).status).toBe(201);
    const read = await api.get(`/v1/vaults/${vaultId}/secrets/${secretPath}`);
    expect(read.status).toBe(200);
    expect(read.body.value).toBe(value);

    // 401s: no credentials, a personal key that does not exist, a JWT-shaped token that does not verify.
    expect((await client(server.url).get("/v1/vaults")).status).toBe(401);
    expect((await client(server.url, `1ck_canarykey${randomUUID().replace(/-/g, "")}`).get("/v1/vaults")).status).toBe(401);
    expect((await client(server.url, "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln").get("/v1/vaults")).status).toBe(401);
    // A failed sign-in (wrong password).
    expect((await client(server.url).post("/v1/auth/token", { email: alice.email, password: "canary wrong password" })).status).toBe(401);
    // A route no one serves, with a canary in its raw path.
    const unmatched = `/v1/canary-route-${randomUUID()}`;
    expect((await client(server.url).get(unmatched)).status).toBe(404);

    // The per-principal limit (25 a minute) refuses another user's 26th request; alice is unaffected.
    const bob = client(server.url, (await signUpVerified(server)).token);
    let refusedAt = 0;
    for (let i = 1; i <= 40 && refusedAt === 0; i++) if ((await bob.get("/v1/auth/me")).status === 429) refusedAt = i;
    expect(refusedAt).toBeGreaterThan(1);
    expect((await api.get("/v1/auth/me")).status).toBe(200);

    const { samples: after, text } = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => total(after, name, labels) - total(before, name, labels);
    const requests = "talon_http_request_duration_seconds_count";

    expect(delta(requests, { method: "PUT", route: SECRET_ROUTE, status: "201" })).toBe(1);
    expect(delta(requests, { method: "GET", route: SECRET_ROUTE, status: "200" })).toBe(1);
    expect(delta(requests, { method: "GET", route: "/v1/vaults", status: "401" })).toBe(3);
    expect(delta(requests, { method: "POST", route: "/v1/auth/token", status: "401" })).toBe(1);
    expect(delta(requests, { method: "GET", route: UNMATCHED_ROUTE, status: "404" })).toBe(1);
    expect(delta(requests, { method: "GET", route: "/v1/auth/me", status: "429" })).toBe(1);
    expect(delta(requests, { method: "GET", route: "/v1/auth/me", status: "200" })).toBe(refusedAt + 1); // bob's sign-up, his loop, alice
    // Latency: the histogram's buckets and sum moved with the count.
    expect(delta("talon_http_request_duration_seconds_bucket", { method: "GET", route: SECRET_ROUTE, status: "200", le: "+Inf" })).toBe(1);
    expect(delta("talon_http_request_duration_seconds_sum", { method: "GET", route: SECRET_ROUTE, status: "200" })).toBeGreaterThan(0);

    expect(delta("talon_secret_writes_total", { action: "write" })).toBe(1);
    expect(delta("talon_secret_reads_total", { source: "direct" })).toBe(1);
    expect(delta("talon_auth_failures_total", { kind: "missing_credentials" })).toBe(1);
    expect(delta("talon_auth_failures_total", { kind: "personal_key" })).toBe(1);
    expect(delta("talon_auth_failures_total", { kind: "token" })).toBe(1);
    expect(delta("talon_auth_failures_total", { kind: "password" })).toBe(1);
    expect(delta("talon_rate_limit_refusals_total", { limit: "principal" })).toBe(1);
    expect(delta("talon_rate_limit_refusals_total", { limit: "ip" })).toBe(0);

    // The keystore signed alice's tokens and wrapped the vault's key; every operation is timed.
    expect(total(after, "talon_keystore_operation_duration_seconds_count", { provider: "pkcs11", operation: "wrap", outcome: "ok" })).toBeGreaterThanOrEqual(1);
    expect(total(after, "talon_keystore_operation_duration_seconds_count", { provider: "pkcs11", operation: "sign", outcome: "ok" })).toBeGreaterThanOrEqual(1);
    // The write and the read found the vault key cached (created with the vault): no unwrap.
    expect(delta("talon_vault_key_cache_lookups_total", { result: "hit" })).toBe(2);
    expect(delta("talon_vault_key_cache_lookups_total", { result: "miss" })).toBe(0);
    expect(total(after, "talon_vault_key_cache_hit_ratio")).toBeGreaterThan(0);
    expect(total(after, "talon_vault_key_cache_entries")).toBeGreaterThanOrEqual(1);
    // The read's audit event went through group commit.
    expect(delta("talon_audit_flush_duration_seconds_count", { outcome: "ok" })).toBeGreaterThanOrEqual(1);
    expect(delta("talon_audit_flushed_events_total", { outcome: "ok" })).toBeGreaterThanOrEqual(1);
    expect(after.some((s) => s.name === "talon_audit_queue_depth")).toBe(true);
    // PostgreSQL's pool is observed; SQLite has none.
    if (testDialect === "postgres") {
      expect(total(after, "talon_db_pool_connections")).toBeGreaterThanOrEqual(1);
      expect(after.some((s) => s.name === "talon_db_pool_waiting_requests")).toBe(true);
    } else {
      expect(after.some((s) => s.name.startsWith("talon_db_pool_"))).toBe(false);
    }

    // No label carries anything a client sent or an id Talon made.
    const canaries = [vaultId, vault.body.name as string, secretPath, "canary", value, alice.email, alice.userId, alice.orgId, unmatched, alice.token];
    for (const c of canaries) expect(text).not.toContain(c);
    const routes = new Set(createApiApp(server.rt).routes.map((r) => r.path));
    for (const s of after.filter((x) => x.labels.route !== undefined)) {
      expect(s.labels.route === UNMATCHED_ROUTE || routes.has(s.labels.route!), s.labels.route).toBe(true);
    }
  });

  it("a method outside the API's set (WebDAV's PROPFIND) is labelled OTHER, never echoed", async () => {
    const res = await fetch(`${server.url}/v1/health`, { method: "PROPFIND" });
    expect(res.status).toBe(405);
    const { text, samples } = await scrape();
    expect(text).not.toContain("PROPFIND");
    expect(total(samples, "talon_http_request_duration_seconds_count", { method: "OTHER", route: UNMATCHED_ROUTE, status: "405" })).toBe(1);
  });
});

describe("registries", () => {
  it("each runtime has its own registry; prom-client's global registry holds none of Talon's metrics", async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.observeRequest("GET", "/v1/health", 200, 0.001);
    a.secretRead("direct");
    expect(total(parseMetrics(await a.scrape()), "talon_http_request_duration_seconds_count")).toBe(1);
    expect(total(parseMetrics(await b.scrape()), "talon_http_request_duration_seconds_count")).toBe(0);
    expect(total(parseMetrics(await b.scrape()), "talon_secret_reads_total")).toBe(0);
    expect(await globalRegistry.metrics()).not.toContain("talon_");
  });
});

describe("TALON_METRICS_ADDR", () => {
  const load = (v?: string) => loadConfig({ TALON_DATA_DIR: "/tmp/talon-metrics-config", ...(v === undefined ? {} : { TALON_METRICS_ADDR: v }) });

  it("is on by default at 127.0.0.1:9464; off disables; IPv6 in brackets; port 0 picks a free port", () => {
    expect(load().metricsAddr).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(load("off").metricsAddr).toBeNull();
    expect(load("[::1]:9100").metricsAddr).toEqual({ host: "::1", port: 9100 });
    expect(load("0.0.0.0:9464").metricsAddr).toEqual({ host: "0.0.0.0", port: 9464 });
    expect(load("127.0.0.1:0").metricsAddr).toEqual({ host: "127.0.0.1", port: 0 });
  });

  it.each(["9464", "localhost", "127.0.0.1:", "127.0.0.1:65536", "[::1]", "http://127.0.0.1:9464", "a b:1"])("refuses %j with one line naming the variable", (v) => {
    let err: unknown;
    try {
      load(v);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe("Invalid configuration: TALON_METRICS_ADDR must be host:port (e.g. 127.0.0.1:9464 or [::1]:9464) or off");
  });

  it("refuses the API's own port", () => {
    expect(() => loadConfig({ PORT: "8080", TALON_METRICS_ADDR: "127.0.0.1:8080" })).toThrow(
      new ConfigError("Invalid configuration: TALON_METRICS_ADDR must not use the API's port 8080 (metrics have their own listener)"),
    );
    expect(loadConfig({ PORT: "8080", TALON_METRICS_ADDR: "127.0.0.1:8081" }).metricsAddr).toEqual({ host: "127.0.0.1", port: 8081 });
  });
});
