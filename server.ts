/**
 * The production entry (`npm start` runs its bundle, dist/server.mjs). One Node HTTP server: `/v1`,
 * `/mcp` and `/.well-known` go straight to the API app, everything else to Next.js. Start-up problems
 * (bad configuration, wrong HSM PIN, unreachable database) end the process with one line on stderr
 * and exit code 1; nothing is retried, because retrying a wrong PIN can lock a real HSM.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import path from "node:path";
import { createApiApp } from "./server/api/app";
import { type Config, ConfigError, loadConfig } from "./server/config";
import { claimSqliteDatabase, SqliteInUseError } from "./server/db/sqlite-owner";
import { CLIENT_IP_HEADER, resolveClientIp } from "./server/http/client-ip";
import { createDispatcher } from "./server/http/node-listener";
import { strictTransportSecurity } from "./server/http/security-headers";
import { tlsServerOptions } from "./server/http/tls";
import { ensureSoftHsmToken } from "./server/keystore/softhsm-setup";
import { KeystoreFatalError } from "./server/keystore/types";
import { log } from "./server/log";
import { isLoopbackHost, type MetricsListener, startMetricsListener } from "./server/metrics/listener";
import { createRuntime, type Runtime, setRuntime } from "./server/runtime";
import { startRotationScan } from "./server/secrets/rotation-scan";
import { startWebhookJobs } from "./server/webhooks/jobs";

process.env.NEXT_TELEMETRY_DISABLED = "1";

const SHUTDOWN_GRACE_MS = 5000;

/**
 * The Next.js configuration `next build` resolved (.next/required-server-files.json), handed over as
 * Next's own standalone server hands it: otherwise Next.js transpiles next.config.ts at every start,
 * which loads the SWC compiler's native binding (≈ 24 MB resident for the life of the process) only to
 * recompute what the build already wrote. Headers, redirects and rewrites come from the build's
 * manifests either way. The `.env` files Next.js would have loaded meanwhile are loaded here, as before.
 * Undefined without a build.
 */
async function builtNextConfig(dir: string): Promise<Record<string, unknown> | undefined> {
  let conf: Record<string, unknown>;
  try {
    conf = (JSON.parse(readFileSync(path.join(dir, ".next", "required-server-files.json"), "utf8")) as { config: Record<string, unknown> }).config;
  } catch {
    return undefined;
  }
  // A CommonJS bundle whose named exports Node cannot see from ESM: they are on the default export.
  const { loadEnvConfig } = ((await import("@next/env")) as unknown as { default: typeof import("@next/env") }).default;
  loadEnvConfig(dir, false, { info: () => {}, error: (...args: unknown[]) => log.warn("Next.js could not load a .env file", { error: String(args[0]) }) });
  process.env.__NEXT_PRIVATE_STANDALONE_CONFIG = JSON.stringify(conf);
  return conf;
}

/** Removes credentials a driver or library might have echoed into an error message. */
function scrub(message: string, config?: Config): string {
  let out = message.split("\n")[0]!.trim();
  const secrets: string[] = [];
  if (config?.keystore.provider === "pkcs11" && config.keystore.pin) secrets.push(config.keystore.pin);
  if (config?.google.clientSecret) secrets.push(config.google.clientSecret);
  if (process.env.AUTH_SECRET) secrets.push(process.env.AUTH_SECRET);
  try {
    const pw = config && new URL(config.databaseUrl).password;
    if (pw) secrets.push(pw, decodeURIComponent(pw));
  } catch {
    // file: URLs and unparsable URLs carry no password.
  }
  for (const s of secrets) out = out.split(s).join("***");
  return out;
}

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * The dashboard's Next.js server, imported and prepared by the first request that needs it (later ones
 * wait for the same start): an instance that only serves agents — the API, MCP — never holds Next.js's
 * modules in memory or runs with the Date and nextTick wrappers Next.js installs process-wide. The
 * first dashboard request pays the start (≈ 1 s). A start that fails answers 503 with Retry-After and
 * is tried again by the next request.
 */
function lazyDashboard(config: Config, conf: Record<string, unknown>): { handle: NodeHandler; close(): Promise<void> } {
  let app: { prepare(): Promise<void>; getRequestHandler(): NodeHandler; close(): Promise<void> } | null = null;
  let ready: Promise<NodeHandler> | null = null;
  const start = async (): Promise<NodeHandler> => {
    const started = performance.now();
    const next = (await import("next")).default;
    const created = next({ dev: false, dir: process.cwd(), hostname: config.host, port: config.port, conf });
    app = created;
    await created.prepare();
    log.info("dashboard started", { ms: Math.round(performance.now() - started) });
    return created.getRequestHandler();
  };
  return {
    async handle(req, res) {
      ready ??= start().catch((e: unknown) => {
        ready = null;
        throw e;
      });
      let handler: NodeHandler;
      try {
        handler = await ready;
      } catch (e) {
        log.error("the dashboard could not start", { error: scrub(e instanceof Error ? e.message : String(e), config) });
        res.writeHead(503, { "Content-Type": "text/plain; charset=utf-8", "Retry-After": "5" }).end("The dashboard could not start; try again shortly.\n");
        return;
      }
      return handler(req, res);
    },
    close: async () => {
      await app?.close();
    },
  };
}

const headerValue = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(",") : v);

function fail(message: string): never {
  process.stderr.write(`talon: ${message}\n`);
  process.exit(1);
}

async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }

  // Before anything touches the data dir: a second server on the same SQLite database stops here.
  if (config.dialect === "sqlite") {
    try {
      claimSqliteDatabase(config.databaseUrl);
    } catch (e) {
      if (e instanceof SqliteInUseError) fail(e.message);
      throw e;
    }
  }

  // A self-hoster's first start: SoftHSM2 with no token in the data dir gets one, its PIN in a 0600
  // file. Not when SOFTHSM2_CONF points at the operator's own SoftHSM setup, and not when a PIN comes
  // from the environment: that PIN belongs to a token someone else initialised.
  const ks = config.keystore;
  if (ks.provider === "pkcs11" && path.basename(ks.module).includes("softhsm") && !process.env.SOFTHSM2_CONF && !ks.pin) {
    try {
      const created = ensureSoftHsmToken(config.dataDir, ks.tokenLabel, ks.pinFile);
      if (created) log.info("created SoftHSM2 token", { label: ks.tokenLabel, dir: path.join(config.dataDir, "hsm") });
    } catch (e) {
      fail(`cannot set up the SoftHSM2 token: ${scrub((e as Error).message, config)}`);
    }
  }

  // With TALON_TLS_CERT_FILE/KEY_FILE Talon terminates TLS itself (and sees mTLS agents' certificates).
  let tls: ReturnType<typeof tlsServerOptions>;
  try {
    tls = tlsServerOptions(config);
  } catch (e) {
    fail(`cannot read the TLS files (TALON_TLS_CERT_FILE, TALON_TLS_KEY_FILE, TALON_TLS_CLIENT_CA_FILE): ${scrub((e as Error).message, config)}`);
  }

  // The dashboard (Next.js) loads on its first request, not at start-up (lazyDashboard). Its build
  // must be there now, though: a missing one is a start-up error, as before.
  const conf = await builtNextConfig(process.cwd());
  if (!conf) fail("the dashboard is not built: .next/required-server-files.json is missing (run npm run build)");
  const dashboard = lazyDashboard(config, conf);

  let rt: Runtime;
  try {
    rt = await createRuntime(config, { migrate: true });
  } catch (e) {
    const message = scrub(e instanceof Error ? e.message : String(e), config);
    fail(e instanceof KeystoreFatalError ? message : `start-up failed: ${message}`);
  }
  setRuntime(rt);

  // Prometheus metrics on their own listener (never the API's port, whose /metrics is Next.js's).
  let metrics: MetricsListener | null = null;
  if (config.metricsAddr) {
    const { host, port } = config.metricsAddr;
    try {
      metrics = await startMetricsListener(rt.metrics, config.metricsAddr);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === "EADDRINUSE" ? `port ${port} is already in use` : scrub((e as Error).message, config);
      await rt.close();
      fail(`cannot serve metrics on ${host}:${port}: ${why} (set TALON_METRICS_ADDR, or off)`);
    }
    log.info("metrics listening", { url: `http://${metrics.host.includes(":") ? `[${metrics.host}]` : metrics.host}:${metrics.port}/metrics` });
    if (!isLoopbackHost(host)) log.warn("the metrics listener is reachable from other machines; restrict who can reach it", { host });
  }

  // Webhook deliveries, the secret-expiry scan and the audit file sink (every instance runs them).
  const webhookJobs = startWebhookJobs(rt);

  // Secrets whose rotation_policy interval has passed: rotated (auto_rotate) or announced once (server/secrets/rotation-scan.ts).
  const rotationScan = startRotationScan(rt);

  // The dashboard learns the client's address from this header, which only this server sets: any
  // copy the client sent is replaced (sign-in limits, audit events and IP rules depend on it).
  process.env.TALON_CLIENT_IP_HEADER = "1";
  // The API app sets its own; the dashboard's other security headers are in next.config.ts (static).
  const hsts = strictTransportSecurity(config);
  const listener = createDispatcher(createApiApp(rt), (req, res) => {
    req.headers[CLIENT_IP_HEADER] = resolveClientIp(req.socket.remoteAddress, headerValue(req.headers["x-forwarded-for"]), config.trustedProxyHops);
    if (hsts) res.setHeader("Strict-Transport-Security", hsts);
    return dashboard.handle(req, res);
  });
  const server = tls ? createTlsServer(tls, listener) : createServer(listener);
  server.on("error", (e: NodeJS.ErrnoException) => {
    const why = e.code === "EADDRINUSE" ? `port ${config.port} is already in use (set PORT)` : scrub(e.message, config);
    void Promise.all([metrics?.close(), rt.close()]).finally(() => fail(`cannot listen on ${config.host}:${config.port}: ${why}`));
  });
  server.listen(config.port, config.host, () => {
    log.info("listening", {
      url: `${tls ? "https" : "http"}://${config.host.includes(":") ? `[${config.host}]` : config.host}:${config.port}`,
      mtls: Boolean(tls?.requestCert),
      public_url: config.publicUrl,
      database: config.dialect,
      keystore: config.keystore.provider,
    });
  });

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    // npm and a terminal may both deliver the signal; the second one must not start a second shutdown.
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
    // A database or HSM that stopped answering must not keep the process alive forever.
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS * 3).unref();
    server.close(async () => {
      clearTimeout(force);
      try {
        await metrics?.close();
        await rotationScan.stop();
        await webhookJobs.stop();
        await rt.close();
        await dashboard.close();
      } catch (e) {
        log.error("error during shutdown", { error: scrub((e as Error).message, config) });
        process.exit(1);
      }
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e: unknown) => fail(`unexpected start-up error: ${scrub(e instanceof Error ? e.message : String(e))}`));
