import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { NO_LIMITS, registerAgent } from "../helpers/agents";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * The exchange reads the agent's row on the driver (server/agents/repo.ts), where the two databases
 * return dates, booleans and integers differently: the token must carry what is stored, and the
 * expiry must be compared as a time on both.
 */
let server: TestServer;
let human: Awaited<ReturnType<typeof signUpVerified>>;
let vaultId: string;

beforeAll(async () => {
  server = await startTestServer({ env: NO_LIMITS });
  human = await signUpVerified(server);
  vaultId = (await client(server.url, human.token).post("/v1/vaults", { name: "exchange" })).body.id;
});
afterAll(async () => {
  await server?.close();
});

const exchange = (body: Record<string, unknown>) => client(server.url).post("/v1/auth/agent-token", body);

describe("POST /v1/auth/agent-token reads the stored agent", () => {
  it("an agent whose expiry is still ahead gets a token by id and by key alone, carrying its stored settings", async () => {
    const a = await registerAgent(server.url, human.token, {
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      token_ttl_seconds: 600,
      crypto_proxy_enabled: true,
      vault_ids: [vaultId],
    });
    for (const body of [{ agent_id: a.id, api_key: a.apiKey }, { api_key: a.apiKey }]) {
      const res = await exchange(body);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ token_type: "bearer", expires_in: 600, agent_id: a.id, vault_ids: [vaultId] });
      const claims = decodeJwt(res.body.access_token);
      expect(claims).toMatchObject({ sub: `agent:${a.id}`, org: human.orgId, tv: 0, crypto_proxy_enabled: true, vault_ids: [vaultId], scopes: [], scope_source: "derived" });
      expect(claims.exp! - claims.iat!).toBe(600);
    }
  });

  it("once the expiry has passed, both forms are refused as expired; a bumped token version is what the next token carries", async () => {
    const a = await registerAgent(server.url, human.token, { expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    await server.rt.db.agent.update({ where: { id: a.id }, data: { tokenVersion: 3 } });
    expect(decodeJwt((await exchange({ api_key: a.apiKey })).body.access_token).tv).toBe(3);
    await server.rt.db.agent.update({ where: { id: a.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    for (const body of [{ agent_id: a.id, api_key: a.apiKey }, { api_key: a.apiKey }]) {
      const res = await exchange(body);
      expect(res.status).toBe(401);
      expect(res.body.detail).toBe("Agent has expired");
    }
  });

  it("an agent that created a vault gets ** as its derived scopes; an expired allow policy is left out before", async () => {
    const a = await registerAgent(server.url, human.token);
    const owner = client(server.url, human.token);
    const live = await owner.post(`/v1/vaults/${vaultId}/policies`, { principal_type: "agent", principal_id: a.id, secret_path_pattern: "db/*", permissions: ["read"] });
    const old = await owner.post(`/v1/vaults/${vaultId}/policies`, { principal_type: "agent", principal_id: a.id, secret_path_pattern: "old/*", permissions: ["read"] });
    expect([live.status, old.status]).toEqual([201, 201]);
    await server.rt.db.policy.update({ where: { id: old.body.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const before = await exchange({ api_key: a.apiKey });
    expect(decodeJwt(before.body.access_token).scopes).toEqual(["db/*", `agents/${a.id}`]);
    const agentApi = client(server.url, before.body.access_token);
    expect((await agentApi.post("/v1/vaults", { name: `own-${a.id.slice(0, 8)}` })).status).toBe(201);
    expect(decodeJwt((await exchange({ api_key: a.apiKey })).body.access_token).scopes).toEqual(["**"]);
  });
});
