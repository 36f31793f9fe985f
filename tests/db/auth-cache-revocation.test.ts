import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, grant, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";

/**
 * The principal and policy lookups are cached in process (server/db/invalidation.ts). A change made
 * through the instance is seen by its very next request, with the cache warm: each case first reads
 * twice (fill, then a hit), changes something, then expects the next request to be refused.
 */
let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let human: ReturnType<typeof client>;
let vaultId: string;

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  owner = await signUpVerified(server);
  human = client(server.url, owner.token);
  vaultId = (await human.post("/v1/vaults", { name: "cache" })).body.id;
  expect((await human.put(`/v1/vaults/${vaultId}/secrets/app/db`, { value: "s3cret" })).status).toBe(201);
});
afterAll(async () => {
  await server?.close();
});

async function readingAgent() {
  const agent = await addAgent(server, owner.token);
  const policy = await grant(human, vaultId, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "app/**", permissions: ["read"] });
  const read = () => agent.api.get(`/v1/vaults/${vaultId}/secrets/app/db`);
  for (let i = 0; i < 2; i++) expect((await read()).status).toBe(200);
  return { ...agent, policy, read };
}

describe("revocation with the caches warm (same instance)", () => {
  it("a deactivated agent's JWT is refused on the next request", async () => {
    const agent = await readingAgent();
    expect((await human.patch(`/v1/agents/${agent.agentId}`, { is_active: false })).status).toBe(200);
    expect((await agent.read()).status).toBe(401);
  });

  it("a revoked agent JWT is refused on the next request", async () => {
    const agent = await readingAgent();
    expect((await agent.api.delete("/v1/auth/token")).status).toBe(204);
    expect((await agent.read()).status).toBe(401);
  });

  it("a deleted policy no longer admits the next read", async () => {
    const agent = await readingAgent();
    expect((await human.delete(`/v1/vaults/${vaultId}/policies/${agent.policy.id}`)).status).toBe(204);
    expect((await agent.read()).status).toBe(403);
  });

  it("a deactivated agent's ocv_ key is refused on the next request", async () => {
    const created = await human.post("/v1/agents", { name: `key-agent-${Date.now()}` });
    expect(created.status).toBe(201);
    const key = client(server.url, created.body.api_key as string);
    for (let i = 0; i < 2; i++) expect((await key.get("/v1/agents/me")).status).toBe(200);
    expect((await human.patch(`/v1/agents/${created.body.agent.id}`, { is_active: false })).status).toBe(200);
    expect((await key.get("/v1/agents/me")).status).toBe(401);
  });

  it("a revoked user JWT is refused on the next request", async () => {
    const login = await client(server.url).post("/v1/auth/token", { email: owner.email, password: owner.password });
    expect(login.status).toBe(200);
    const user = client(server.url, login.body.access_token as string);
    for (let i = 0; i < 2; i++) expect((await user.get("/v1/auth/me")).status).toBe(200);
    expect((await user.delete("/v1/auth/token")).status).toBe(204);
    expect((await user.get("/v1/auth/me")).status).toBe(401);
    expect((await human.get("/v1/auth/me")).status).toBe(200);
  });

  it("a deleted personal key is refused on the next request", async () => {
    const created = await human.post("/v1/auth/api-keys", { name: "cached" });
    expect(created.status).toBe(201);
    const key = client(server.url, created.body.api_key as string);
    for (let i = 0; i < 2; i++) expect((await key.get("/v1/auth/me")).status).toBe(200);
    expect((await human.delete(`/v1/auth/api-keys/${created.body.key.id}`)).status).toBe(204);
    expect((await key.get("/v1/auth/me")).status).toBe(401);
  });
});

describe("writes made outside this instance", () => {
  it.runIf(testDialect === "postgres")("PostgreSQL: a change by another client reaches the cache through NOTIFY", async () => {
    const agent = await readingAgent();
    const other = new pg.Client({ connectionString: server.databaseUrl });
    await other.connect();
    try {
      // Triggers off for this session (replica mode): the write notifies nobody, and the warm cache
      // still admits the agent — the cases above ran against a cache in use.
      await other.query("SET session_replication_role = replica");
      await other.query(`UPDATE "Agent" SET "isActive" = false WHERE "id" = $1`, [agent.agentId]);
      expect((await agent.read()).status).toBe(200);
      await other.query("SET session_replication_role = DEFAULT");
      // The trigger's notification ends it (any real change to the row notifies; an update that
      // changed nothing, or only the agent's lastActiveAt, does not).
      const started = Date.now();
      await other.query(`UPDATE "Agent" SET "description" = 'touched' WHERE "id" = $1`, [agent.agentId]);
      let status = 200;
      while (status !== 401 && Date.now() - started < 2_000) status = (await agent.read()).status;
      expect(status).toBe(401);
    } finally {
      await other.end();
    }
  });

  it.runIf(testDialect === "sqlite")("SQLite: the cache is in use — another process's write is not seen while the entry is current", async () => {
    // Documents the one-process-per-file assumption (server/db/invalidation.ts), and proves the cases
    // above ran against a warm cache: a write no statement hook of this instance saw leaves it as it was.
    const agent = await readingAgent();
    const file = server.databaseUrl.slice("file:".length);
    const other = new BetterSqlite3(file);
    try {
      other.pragma("busy_timeout = 5000");
      other.prepare(`UPDATE "Agent" SET "isActive" = 0 WHERE "id" = ?`).run(agent.agentId);
    } finally {
      other.close();
    }
    expect((await agent.read()).status).toBe(200);
    // Any write through the instance to a watched table ends it.
    expect((await human.post("/v1/auth/api-keys", { name: "bump" })).status).toBe(201);
    expect((await agent.read()).status).toBe(401);
  });
});
