import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient, type TalonClient } from "../../lib/sdk";
import { signUpVerified } from "../helpers/accounts";
import { startTestServer, type TestServer } from "../helpers/server";
import { AGENT_TOKEN, countingFetch } from "./helpers";

let server: TestServer;
let human: TalonClient;
let vaultId: string;

beforeAll(async () => {
  server = await startTestServer();
  const owner = await signUpVerified(server);
  human = createClient({ baseUrl: server.url, token: owner.token });
  vaultId = (await human.vaults.create({ name: "agents-sdk" })).data!.id;
  await human.secrets.set(vaultId, "api-keys/openai", "sk-agent-visible", { type: "api_key" });
});
afterAll(async () => server?.close());

async function newAgent(name: string, extra: { token_ttl_seconds?: number } = {}) {
  const r = await human.agents.create({ name, vault_ids: [vaultId], ...extra });
  expect(r.meta.status).toBe(201);
  await human.access.grantAgent(vaultId, r.data!.agent.id, ["read"], { path: "api-keys/*" });
  return { id: r.data!.agent.id, key: r.data!.api_key! };
}

describe("SDK: agents and access", () => {
  test("agents create/get/list/update/rotateKey/delete", async () => {
    const created = await human.agents.create({ name: "crud", description: "d", token_ttl_seconds: 300 });
    expect(created.data?.api_key).toMatch(/^ocv_/);
    const id = created.data!.agent.id;
    expect((await human.agents.get(id)).data).toMatchObject({ id, name: "crud", token_ttl_seconds: 300, is_active: true });
    expect((await human.agents.list()).data?.agents.map((a) => a.id)).toContain(id);
    expect((await human.agents.update(id, { is_active: false })).data?.is_active).toBe(false);
    const rotated = await human.agents.rotateKey(id);
    expect(rotated.data?.api_key).toMatch(/^ocv_/);
    expect(rotated.data?.api_key).not.toBe(created.data!.api_key);
    expect((await human.agents.delete(id)).meta.status).toBe(204);
    expect((await human.agents.get(id)).error?.type).toBe("not_found");
  });

  test("access grantAgent/listGrants/update/revoke decide what the agent can read", async () => {
    const { id, key } = await newAgent("grants");
    const agent = createClient({ baseUrl: server.url, agentId: id, apiKey: key });
    expect((await agent.secrets.get(vaultId, "api-keys/openai")).data?.value).toBe("sk-agent-visible");
    expect((await agent.agents.me()).data).toMatchObject({ id, vault_ids: [vaultId] });

    const grants = await human.access.listGrants(vaultId);
    const policy = grants.data!.policies.find((p) => p.principal_id === id)!;
    expect(policy).toMatchObject({ principal_type: "agent", secret_path_pattern: "api-keys/*", permissions: ["read"] });
    const updated = await human.access.update(vaultId, policy.id, { permissions: ["read", "write"] });
    expect(updated.data?.permissions.sort()).toEqual(["read", "write"]);
    expect((await human.access.revoke(vaultId, policy.id)).meta.status).toBe(204);
    const denied = await agent.secrets.get(vaultId, "api-keys/openai");
    expect(denied.error?.type).toBe("forbidden");

    const me = (await human.auth.me()).data!;
    const humanGrant = await human.access.grantHuman(vaultId, me.id, ["read"], { path: "**" });
    expect(humanGrant.data).toMatchObject({ principal_type: "user", principal_id: me.id, secret_path_pattern: "**" });
  });
});

describe("SDK: agent key → JWT exchange", () => {
  test("concurrent first calls share one exchange (single-flight)", async () => {
    const { id, key } = await newAgent("single-flight");
    const calls = countingFetch();
    const agent = createClient({ baseUrl: server.url, agentId: id, apiKey: key, fetch: calls.fetch });
    const results = await Promise.all(Array.from({ length: 8 }, () => agent.secrets.list(vaultId)));
    expect(results.map((r) => r.meta.status)).toEqual(Array(8).fill(200));
    expect(calls.count(AGENT_TOKEN)).toBe(1);
    await agent.vaults.list();
    expect(calls.count(AGENT_TOKEN)).toBe(1);
  });

  test("the token is refreshed `refreshSkewSeconds` before expires_in runs out, once for concurrent callers", async () => {
    const { id, key } = await newAgent("refresh", { token_ttl_seconds: 120 });
    const calls = countingFetch();
    // Fresh for 120 - 116 = 4 s after each exchange.
    const agent = createClient({ baseUrl: server.url, agentId: id, apiKey: key, fetch: calls.fetch, refreshSkewSeconds: 116 });
    expect((await agent.secrets.list(vaultId)).meta.status).toBe(200);
    expect((await agent.secrets.list(vaultId)).meta.status).toBe(200);
    expect(calls.count(AGENT_TOKEN)).toBe(1);
    await new Promise((r) => setTimeout(r, 4500));
    const after = await Promise.all([agent.secrets.list(vaultId), agent.secrets.list(vaultId), agent.vaults.list()]);
    expect(after.map((r) => r.meta.status)).toEqual([200, 200, 200]);
    expect(calls.count(AGENT_TOKEN)).toBe(2);
  });

  test("with the default skew (60 s) a 61 s token is renewed on the next call after a second", async () => {
    const { id, key } = await newAgent("skew-default", { token_ttl_seconds: 61 });
    const calls = countingFetch();
    const agent = createClient({ baseUrl: server.url, agentId: id, apiKey: key, fetch: calls.fetch });
    await agent.secrets.list(vaultId);
    await new Promise((r) => setTimeout(r, 2000));
    await agent.secrets.list(vaultId);
    expect(calls.count(AGENT_TOKEN)).toBe(2);
  });

  test("no method retries on 401: a revoked token answers 401 once; a dead key fails the exchange", async () => {
    const { id, key } = await newAgent("no-retry");
    const calls = countingFetch();
    const agent = createClient({ baseUrl: server.url, agentId: id, apiKey: key, fetch: calls.fetch });
    expect((await agent.secrets.list(vaultId)).meta.status).toBe(200);
    // Rotating the key kills the agent's current JWT and the old key at once.
    expect((await human.agents.rotateKey(id)).meta.status).toBe(200);
    calls.reset();
    const r = await agent.secrets.get(vaultId, "api-keys/openai");
    expect(r).toMatchObject({ data: null, error: { type: "unauthorized" }, meta: { status: 401 } });
    expect(calls.calls).toEqual([`GET /v1/vaults/${vaultId}/secrets/api-keys/openai`]);
    calls.reset();
    // The refused token was dropped: the next call exchanges again (with the dead key), once, and stops.
    const again = await agent.secrets.list(vaultId);
    expect(again.meta.status).toBe(401);
    expect(calls.calls).toEqual([AGENT_TOKEN]);
  });

  test("an ocv_ key without agentId is sent directly as Bearer (no exchange)", async () => {
    const { key } = await newAgent("direct");
    const calls = countingFetch();
    const agent = createClient({ baseUrl: server.url, apiKey: key, fetch: calls.fetch });
    expect((await agent.secrets.get(vaultId, "api-keys/openai")).data?.value).toBe("sk-agent-visible");
    expect(calls.calls).toEqual([`GET /v1/vaults/${vaultId}/secrets/api-keys/openai`]);
  });

  test("auth.agentToken exchanges explicitly and the client adopts the JWT; logout revokes it", async () => {
    const { id, key } = await newAgent("explicit");
    const c = createClient({ baseUrl: server.url });
    const t = await c.auth.agentToken({ agent_id: id, api_key: key });
    expect(t.data).toMatchObject({ token_type: "bearer", agent_id: id, vault_ids: [vaultId], expires_in: expect.any(Number) });
    expect((await c.secrets.list(vaultId)).meta.status).toBe(200);
    expect((await c.auth.logout()).meta.status).toBe(204);
    const bearer = createClient({ baseUrl: server.url, token: t.data!.access_token });
    expect((await bearer.secrets.list(vaultId)).meta.status).toBe(401);
  });
});
