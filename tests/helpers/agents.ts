import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createApiApp } from "../../server/api/app";
import { loadConfig } from "../../server/config";
import { createDispatcher } from "../../server/http/node-listener";
import { createRuntime, type Runtime } from "../../server/runtime";
import { client } from "./http";
import { createPostgresDatabase, testDialect, type TestServer } from "./server";

/** Agent tests make many exchanges from one address: the per-IP limits have their own tests. */
export const NO_LIMITS = { TALON_RATE_LIMIT_IP_PER_MINUTE: "0", TALON_RATE_LIMIT_PRINCIPAL_PER_MINUTE: "0", TALON_RATE_LIMIT_AUTH_PER_MINUTE: "0" };

export type RegisteredAgent = { id: string; apiKey: string; agent: Record<string, unknown> };

/** POST /v1/agents as the human holding `humanToken`; fails the test on anything but 201. */
export async function registerAgent(baseUrl: string, humanToken: string, body: Record<string, unknown> = {}): Promise<RegisteredAgent> {
  const res = await client(baseUrl, humanToken).post("/v1/agents", { name: `agent-${Math.random().toString(36).slice(2, 8)}`, ...body });
  if (res.status !== 201) throw new Error(`agent registration failed: ${res.status} ${res.text}`);
  return { id: res.body.agent.id, apiKey: res.body.api_key, agent: res.body.agent };
}

/** POST /v1/auth/agent-token with an ocv_ key; the access token. */
export async function agentToken(baseUrl: string, agentId: string, apiKey: string): Promise<string> {
  const res = await client(baseUrl).post("/v1/auth/agent-token", { agent_id: agentId, api_key: apiKey });
  if (res.status !== 200) throw new Error(`agent-token failed: ${res.status} ${res.text}`);
  return res.body.access_token as string;
}

export type TwinServers = { a: TestServer; b: TestServer; close(): Promise<void> };

/**
 * Two Talon instances sharing one database, as behind a load balancer: same SQLite file or same
 * PostgreSQL database, same keys. One process can hold only one PKCS#11 session state for a SoftHSM
 * token, so both use the `local` keystore over the same key file (same master and JWT signing keys):
 * what is shared between instances — the database — is exactly what production shares.
 */
export async function startTwinServers(env: Record<string, string> = {}): Promise<TwinServers> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "talon-twins-"));
  const pgDb = testDialect === "postgres" ? await createPostgresDatabase() : null;
  const databaseUrl = pgDb?.url ?? `file:${path.join(dataDir, "talon.db")}`;
  const config = loadConfig({
    TALON_DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    TALON_KEYSTORE: "local",
    TALON_LOG_LEVEL: process.env.TALON_TEST_LOG_LEVEL ?? "error",
    ...NO_LIMITS,
    ...env,
  });
  const start = async (migrate: boolean): Promise<{ server: Server; rt: Runtime; url: string }> => {
    const rt = await createRuntime(config, { migrate });
    const server = createServer(createDispatcher(createApiApp(rt)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { server, rt, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  };
  // Sequential: the first instance migrates and creates the key file; the second finds both.
  const first = await start(true);
  const second = await start(false);
  const stop = async (s: { server: Server; rt: Runtime }) => {
    s.server.closeAllConnections();
    await new Promise((resolve) => s.server.close(resolve));
    await s.rt.close();
  };
  const asTestServer = (s: typeof first): TestServer => ({ url: s.url, rt: s.rt, dataDir, databaseUrl, close: () => stop(s) });
  return {
    a: asTestServer(first),
    b: asTestServer(second),
    async close() {
      await stop(first);
      await stop(second);
      await pgDb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
