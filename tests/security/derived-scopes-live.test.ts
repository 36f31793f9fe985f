import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, grant, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Scopes derived from an agent's policies never go stale: the token carries them for clients to read
 * (`scope_source: "derived"`), but only the live policies decide, so a grant, a change or a removal
 * applies to the agent's existing token on its next request. Scopes a human set explicitly on the
 * agent (`scope_source: "explicit"`) stay a hard ceiling over policies, shares and the agent's own
 * key, and changing them revokes the agent's tokens.
 */
let server: TestServer;
let owner: ReturnType<typeof client>;
let ownerToken: string;
let vault: string;
const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();
const url = (path: string) => `/v1/vaults/${vault}/secrets/${path}`;
const ids: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  const acct = await signUpVerified(server);
  ownerToken = acct.token;
  owner = client(server.url, acct.token);
  vault = (await owner.post("/v1/vaults", { name: "live-scopes" })).body.id;
  for (const [path, value] of [["a/one", "value-a"], ["b/two", "value-b"]]) {
    const put = await owner.put(url(path!), { value, type: "api_key" });
    expect(put.status).toBe(201);
    ids[path!] = put.body.id;
  }
});
afterAll(async () => {
  await server?.close();
});

describe("derived scopes follow the live policies", () => {
  it("a token minted while the agent could read a/* reads b/* as soon as a human grants it, with no new token", async () => {
    const agent = await addAgent(server, ownerToken);
    await grant(owner, vault, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "a/*", permissions: ["read"] });
    const token = await freshToken(agent.agentId);
    // The derived list is still in the token for clients to read, marked as derived.
    expect(decodeJwt(token)).toMatchObject({ scopes: ["a/*", `agents/${agent.agentId}`], scope_source: "derived" });
    const api = client(server.url, token);
    expect((await api.get(url("a/one"))).body.value).toBe("value-a");
    expect((await api.get(url("b/two"))).status).toBe(403);

    await grant(owner, vault, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "b/*", permissions: ["read"] });
    const read = await api.get(url("b/two"));
    expect(read.status).toBe(200);
    expect(read.body.value).toBe("value-b");
    // Listings follow the same live decision.
    const listed = await api.get(`/v1/vaults/${vault}/secrets`);
    expect(listed.body.secrets.map((s: { path: string }) => s.path).sort()).toEqual(["a/one", "b/two"]);
  });

  it("removing the policy refuses the same token on a/* at once; changing it (read → write only) too", async () => {
    const agent = await addAgent(server, ownerToken);
    const pa = await grant(owner, vault, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "a/*", permissions: ["read"] });
    const pb = await grant(owner, vault, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "b/*", permissions: ["read"] });
    const token = await freshToken(agent.agentId);
    expect(decodeJwt(token).scopes).toEqual(["a/*", "b/*", `agents/${agent.agentId}`]);
    const api = client(server.url, token);
    expect((await api.get(url("a/one"))).status).toBe(200);
    expect((await api.get(url("b/two"))).status).toBe(200);

    expect((await owner.delete(`/v1/vaults/${vault}/policies/${pa.id}`)).status).toBe(204);
    const refused = await api.get(url("a/one"));
    expect(refused.status).toBe(403);
    expect(refused.text).not.toContain("value-a");
    // Positive control: the same token still reads what its remaining policy allows.
    expect((await api.get(url("b/two"))).status).toBe(200);

    expect((await owner.put(`/v1/vaults/${vault}/policies/${pb.id}`, { permissions: ["write"] })).status).toBe(200);
    expect((await api.get(url("b/two"))).status).toBe(403);
    expect((await api.put(url("b/two"), { value: "value-b", type: "api_key" })).status).toBe(201);
  });

  it("an agent with no policies and no explicit scopes has zero access, and still reads its own key", async () => {
    const agent = await addAgent(server, ownerToken);
    expect(decodeJwt(agent.token)).toMatchObject({ scopes: [], scope_source: "derived" });
    expect((await agent.api.get(url("a/one"))).status).toBe(403);
    const me = await agent.api.get("/v1/agents/me");
    const own = await agent.api.get(`/v1/vaults/${me.body.ssh_key_location.vault_id}/secrets/${me.body.ssh_key_location.path}`);
    expect(own.status).toBe(200);
    expect(own.body.value).toContain("PRIVATE KEY");
  });

  it("a derived token receives a share of a path outside its policies (a share is a grant, not a policy read)", async () => {
    const agent = await addAgent(server, ownerToken);
    await grant(owner, vault, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "a/*", permissions: ["read"] });
    const api = client(server.url, await freshToken(agent.agentId));
    const share = await owner.post(`/v1/secrets/${ids["b/two"]}/share`, { recipient_type: "agent", recipient_id: agent.agentId, expires_at: inDays(1) });
    expect(share.status).toBe(201);
    expect((await api.post(`/v1/shares/${share.body.id}/accept`)).status).toBe(204);
    expect((await api.get(`/v1/share/${share.body.id}`)).body.value).toBe("value-b");
  });
});

describe("explicit scopes stay a hard ceiling", () => {
  it("policies beyond explicit scopes are capped; the token says its scopes are explicit", async () => {
    const agent = await addAgent(server, ownerToken, { scopes: ["a/*"] });
    expect(decodeJwt(agent.token)).toMatchObject({ scopes: ["a/*"], scope_source: "explicit" });
    await grant(owner, vault, { principal_type: "agent", principal_id: agent.agentId, permissions: ["read"] });
    expect((await agent.api.get(url("a/one"))).body.value).toBe("value-a");
    const capped = await agent.api.get(url("b/two"));
    expect(capped.status).toBe(403);
    expect(capped.body.detail).toMatch(/scopes do not cover this path/);
    // Listings are capped too.
    expect((await agent.api.get(`/v1/vaults/${vault}/secrets`)).body.secrets.map((s: { path: string }) => s.path)).toEqual(["a/one"]);
  });

  it("explicit scopes cap shares received (H2) and the agent's own key (system vault)", async () => {
    const agent = await addAgent(server, ownerToken, { scopes: ["a/*"] });
    const outside = await owner.post(`/v1/secrets/${ids["b/two"]}/share`, { recipient_type: "agent", recipient_id: agent.agentId, expires_at: inDays(1) });
    expect((await agent.api.post(`/v1/shares/${outside.body.id}/accept`)).status).toBe(403);
    expect((await agent.api.get(`/v1/share/${outside.body.id}`)).status).toBe(403);
    const inside = await owner.post(`/v1/secrets/${ids["a/one"]}/share`, { recipient_type: "agent", recipient_id: agent.agentId, expires_at: inDays(1) });
    expect((await agent.api.post(`/v1/shares/${inside.body.id}/accept`)).status).toBe(204);
    expect((await agent.api.get(`/v1/share/${inside.body.id}`)).body.value).toBe("value-a");

    const me = await agent.api.get("/v1/agents/me");
    const ownKey = `/v1/vaults/${me.body.ssh_key_location.vault_id}/secrets/${me.body.ssh_key_location.path}`;
    expect((await agent.api.get(ownKey)).status).toBe(403);
    const widened = await addAgent(server, ownerToken, { scopes: ["a/*", "agents/*"] });
    const widenedMe = await widened.api.get("/v1/agents/me");
    expect((await widened.api.get(`/v1/vaults/${widenedMe.body.ssh_key_location.vault_id}/secrets/${widenedMe.body.ssh_key_location.path}`)).status).toBe(200);
  });

  it("changing explicit scopes revokes the agent's tokens; the new token carries the new ceiling", async () => {
    const agent = await addAgent(server, ownerToken, { scopes: ["a/*"] });
    await grant(owner, vault, { principal_type: "agent", principal_id: agent.agentId, permissions: ["read"] });
    expect((await agent.api.get(url("a/one"))).status).toBe(200);
    expect((await owner.patch(`/v1/agents/${agent.agentId}`, { scopes: ["b/*"] })).status).toBe(200);
    expect((await agent.api.get(url("a/one"))).status).toBe(401);
    const next = client(server.url, await freshToken(agent.agentId));
    expect((await next.get(url("b/two"))).status).toBe(200);
    expect((await next.get(url("a/one"))).status).toBe(403);

    // Clearing them makes the scopes derived again, and that too revokes.
    const cleared = await owner.patch(`/v1/agents/${agent.agentId}`, { scopes: [] });
    expect(cleared.status).toBe(200);
    expect((await next.get(url("b/two"))).status).toBe(401);
    const derived = await freshToken(agent.agentId);
    expect(decodeJwt(derived).scope_source).toBe("derived");
    expect((await client(server.url, derived).get(url("a/one"))).status).toBe(200);
  });

  it("a token without scope_source (minted before the claim existed) keeps its list as a ceiling", async () => {
    const agent = await addAgent(server, ownerToken);
    await grant(owner, vault, { principal_type: "agent", principal_id: agent.agentId, permissions: ["read"] });
    const row = await server.rt.db.agent.findUniqueOrThrow({ where: { id: agent.agentId } });
    const legacy = await server.rt.tokens.issue(
      { sub: `agent:${agent.agentId}`, org: row.orgId, scopes: ["a/*"], vault_ids: [], crypto_proxy_enabled: false, tv: row.tokenVersion },
      600,
    );
    const api = client(server.url, legacy.token);
    expect((await api.get(url("a/one"))).status).toBe(200);
    expect((await api.get(url("b/two"))).status).toBe(403);
    const damaged = await server.rt.tokens.issue(
      { sub: `agent:${agent.agentId}`, org: row.orgId, scopes: [], scope_source: "everything", vault_ids: [], crypto_proxy_enabled: false, tv: row.tokenVersion },
      600,
    );
    expect((await client(server.url, damaged.token).get(url("a/one"))).status).toBe(401);
  });
});

/** A new key (rotation) exchanged for a token: the agent's current state, as a client that signs in again would see it. */
async function rotateKey(agentId: string): Promise<string> {
  const rotated = await owner.post(`/v1/agents/${agentId}/rotate-key`);
  expect(rotated.status).toBe(200);
  return rotated.body.api_key as string;
}

async function freshToken(agentId: string): Promise<string> {
  const res = await client(server.url).post("/v1/auth/agent-token", { agent_id: agentId, api_key: await rotateKey(agentId) });
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}
