import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { createApiApp } from "../../server/api/app";
import { loadConfig } from "../../server/config";
import { createDispatcher } from "../../server/http/node-listener";
import { ensureSoftHsmToken } from "../../server/keystore/softhsm-setup";
import { createRuntime, type Runtime } from "../../server/runtime";

/** Which database this test run uses: `TALON_TEST_DB=postgres` (with TEST_DATABASE_URL) or SQLite. */
export const testDialect: "sqlite" | "postgres" = process.env.TALON_TEST_DB === "postgres" ? "postgres" : "sqlite";

/** A fresh PostgreSQL database beside TEST_DATABASE_URL's, dropped again by the returned function. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) throw new Error("TALON_TEST_DB=postgres needs TEST_DATABASE_URL");
  const name = `talon_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export type TestServer = {
  url: string;
  rt: Runtime;
  dataDir: string;
  databaseUrl: string;
  close(): Promise<void>;
};

/**
 * A real Talon API server on a loopback port: real SoftHSM2 token (created in a temp dir), real
 * SQLite file or PostgreSQL database, real HTTP. Nothing of ours is mocked.
 */
export async function startTestServer(opts: { env?: Record<string, string>; existing?: { dataDir: string; databaseUrl: string } } = {}): Promise<TestServer> {
  // `existing`: a data dir and database made beforehand (a restored backup); close() still removes
  // the data dir, but a PostgreSQL database it did not create is the caller's to drop.
  const dataDir = opts.existing?.dataDir ?? mkdtempSync(path.join(tmpdir(), "talon-test-"));
  const keystore = opts.env?.TALON_KEYSTORE ?? "pkcs11";
  if (keystore === "pkcs11") ensureSoftHsmToken(dataDir, "talon");
  const pgDb = testDialect === "postgres" && !opts.existing ? await createPostgresDatabase() : null;
  const databaseUrl = opts.existing?.databaseUrl ?? pgDb?.url ?? `file:${path.join(dataDir, "talon.db")}`;
  const config = loadConfig({
    TALON_DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    TALON_LOG_LEVEL: process.env.TALON_TEST_LOG_LEVEL ?? "error",
    // Every test client connects from 127.0.0.1: request-rate limits are off unless a test sets them
    // (tests/security/rate-limits.test.ts does). Brute-force limits stay on.
    TALON_RATE_LIMIT_IP_PER_MINUTE: "0",
    TALON_RATE_LIMIT_PRINCIPAL_PER_MINUTE: "0",
    TALON_RATE_LIMIT_AUTH_PER_MINUTE: "0",
    ...opts.env,
  });
  const rt = await createRuntime(config, { migrate: true });
  const server: Server = createServer(createDispatcher(createApiApp(rt)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    rt,
    dataDir,
    databaseUrl,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rt.close();
      await pgDb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
