import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { agentToken, registerAgent, startTwinServers, type TwinServers } from "../helpers/agents";
import { client, type TestResponse } from "../helpers/http";

/**
 * Revocation takes effect on the very next request — and on every instance sharing the database: two
 * Talon servers (A and B) run on one database, and each credential is first shown working on B
 * (positive control), then killed through A, then refused by B.
 */
let twins: TwinServers;
let human: Awaited<ReturnType<typeof signUpVerified>>;
const onA = (token?: string) => client(twins.a.url, token);
const onB = (token?: string) => client(twins.b.url, token);

beforeAll(async () => {
  twins = await startTwinServers();
  human = await signUpVerified(twins.a);
});
afterAll(async () => twins?.close());

const me = (token: string) => onB(token).get("/v1/agents/me");
function expect401(res: TestResponse) {
  expect(res.status).toBe(401);
  expect(res.body).toMatchObject({ status: 401, title: "Unauthorized" });
}

async function freshAgent() {
  const a = await registerAgent(twins.a.url, human.token);
  const token = await agentToken(twins.a.url, a.id, a.apiKey);
  expect((await me(token)).status).toBe(200);
  expect((await me(a.apiKey)).status).toBe(200);
  return { ...a, token };
}

describe("DELETE /v1/auth/token", () => {
  it("revokes the presented agent JWT on every instance; the agent's other tokens live on", async () => {
    const a = await freshAgent();
    const second = await agentToken(twins.b.url, a.id, a.apiKey);
    expect((await onA(a.token).delete("/v1/auth/token")).status).toBe(204);
    expect401(await me(a.token));
    expect401(await onA(a.token).get("/v1/agents/me"));
    expect401(await onA(a.token).delete("/v1/auth/token"));
    expect((await me(second)).status).toBe(200);
    expect((await me(a.apiKey)).status).toBe(200);
  });

  it("revokes a user JWT on every instance", async () => {
    const login = await onB().post("/v1/auth/token", { email: human.email, password: human.password });
    expect(login.status).toBe(200);
    const token = login.body.access_token as string;
    expect((await onB(token).get("/v1/auth/me")).status).toBe(200);
    expect((await onA(token).delete("/v1/auth/token")).status).toBe(204);
    expect401(await onB(token).get("/v1/auth/me"));
    expect((await onB(human.token).get("/v1/auth/me")).status).toBe(200);
  });

  it("answers 400 for keys, which are deleted or rotated instead", async () => {
    const a = await freshAgent();
    const res = await onA(a.apiKey).delete("/v1/auth/token");
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/rotate/);
    expect((await me(a.apiKey)).status).toBe(200);
    const key = await onA(human.token).post("/v1/auth/api-keys", { name: "k" });
    expect(key.status).toBe(201);
    const personal = await onA(key.body.api_key).delete("/v1/auth/token");
    expect(personal.status).toBe(400);
    expect(personal.body.detail).toMatch(/delete it/);
  });

  it("purges denylist rows whose tokens have expired anyway", async () => {
    const stale = randomUUID();
    await twins.a.rt.db.revokedToken.create({ data: { jti: stale, expiresAt: new Date(Date.now() - 60_000) } });
    const a = await freshAgent();
    expect((await onA(a.token).delete("/v1/auth/token")).status).toBe(204);
    expect(await twins.a.rt.db.revokedToken.findUnique({ where: { jti: stale } })).toBeNull();
    expect(await twins.a.rt.db.revokedToken.count()).toBeGreaterThan(0);
  });
});

describe("agent lifecycle kills earlier credentials on every instance", () => {
  it("deactivation: the JWT, the key as Bearer and the exchange all fail; reactivation needs a new token", async () => {
    const a = await freshAgent();
    expect((await onA(human.token).patch(`/v1/agents/${a.id}`, { is_active: false })).status).toBe(200);
    expect401(await me(a.token));
    expect401(await me(a.apiKey));
    const ex = await onB().post("/v1/auth/agent-token", { agent_id: a.id, api_key: a.apiKey });
    expect401(ex);
    expect(ex.body.detail).toBe("Agent is deactivated");
    expect((await onA(human.token).patch(`/v1/agents/${a.id}`, { is_active: true })).status).toBe(200);
    expect401(await me(a.token));
    expect((await me(await agentToken(twins.b.url, a.id, a.apiKey))).status).toBe(200);
  });

  it("key rotation: the old key and the tokens issued with it fail; the new key works", async () => {
    const a = await freshAgent();
    const rotated = await onA(human.token).post(`/v1/agents/${a.id}/rotate-key`);
    expect(rotated.status).toBe(200);
    expect401(await me(a.token));
    expect401(await me(a.apiKey));
    expect401(await onB().post("/v1/auth/agent-token", { agent_id: a.id, api_key: a.apiKey }));
    expect((await me(rotated.body.api_key)).status).toBe(200);
    expect((await me(await agentToken(twins.b.url, a.id, rotated.body.api_key))).status).toBe(200);
  });

  it("deletion: the JWT and the key fail", async () => {
    const a = await freshAgent();
    expect((await onA(human.token).delete(`/v1/agents/${a.id}`)).status).toBe(204);
    expect401(await me(a.token));
    expect401(await me(a.apiKey));
  });

  it("a change of scopes, vault binding or crypto flag kills earlier tokens; a rename does not", async () => {
    const a = await freshAgent();
    expect((await onA(human.token).patch(`/v1/agents/${a.id}`, { name: "renamed", tx_max_value_eth: "1" })).status).toBe(200);
    expect((await me(a.token)).status).toBe(200);
    for (const change of [{ scopes: ["db/*"] }, { vault_ids: [] }, { crypto_proxy_enabled: true }]) {
      const token = await agentToken(twins.b.url, a.id, a.apiKey);
      expect((await me(token)).status).toBe(200);
      expect((await onA(human.token).patch(`/v1/agents/${a.id}`, change)).status).toBe(200);
      expect401(await me(token));
    }
  });

  it("an expired agent is refused, with its key and its tokens", async () => {
    const a = await freshAgent();
    await twins.a.rt.db.agent.update({ where: { id: a.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect401(await me(a.token));
    expect401(await me(a.apiKey));
    expect401(await onB().post("/v1/auth/agent-token", { agent_id: a.id, api_key: a.apiKey }));
  });
});
