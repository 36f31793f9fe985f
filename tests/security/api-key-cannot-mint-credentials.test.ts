import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified, uniqueEmail } from "../helpers/accounts";
import { agentToken, registerAgent } from "../helpers/agents";
import { client } from "../helpers/http";
import { NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * A personal `1ck_` key, or a user JWT exchanged from one, must not mint a credential that outlives
 * it — an agent, an agent key, an invitation, another API key, MFA: 403 naming the rule. Only an
 * interactive sign-in may. Each refusal sits beside the same owner doing the same thing with a login
 * JWT, and beside the key doing what it may (reads, updates).
 */
let server: TestServer;
let acct: Awaited<ReturnType<typeof signUpVerified>>;
/** An access token from POST /v1/auth/token (email + password): an interactive sign-in. */
let loginJwt: string;
let personalKey: string;
let keyJwt: string;
let agent: Awaited<ReturnType<typeof registerAgent>>;
const RULE = /needs an interactive sign-in, not a personal API key/;

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  acct = await signUpVerified(server);
  const login = await client(server.url).post("/v1/auth/token", { email: acct.email, password: acct.password });
  expect(login.status).toBe(200);
  loginJwt = login.body.access_token;
  const key = await client(server.url, loginJwt).post("/v1/auth/api-keys", { name: "ci" });
  expect(key.status).toBe(201);
  personalKey = key.body.api_key;
  const exchanged = await client(server.url).post("/v1/auth/api-key-token", { api_key: personalKey });
  expect(exchanged.status).toBe(200);
  keyJwt = exchanged.body.access_token;
  agent = await registerAgent(server.url, loginJwt);
});
afterAll(async () => server?.close());

const counts = async () => ({
  agents: await server.rt.db.agent.count({ where: { orgId: acct.orgId } }),
  invites: await server.rt.db.orgInvite.count({ where: { orgId: acct.orgId } }),
  keys: await server.rt.db.apiKey.count({ where: { userId: acct.userId } }),
  agentKey: (await server.rt.db.agent.findUniqueOrThrow({ where: { id: agent.id } })).keyHash,
});

describe("a personal API key cannot mint credentials", () => {
  it.each([
    ["a 1ck_ key", "key", () => personalKey],
    ["a JWT exchanged from a 1ck_ key", "key-jwt", () => keyJwt],
  ] as const)("refuses agents, key rotation, invitations, API keys and MFA to %s", async (_label, tag, credential) => {
    const api = client(server.url, credential());
    const before = await counts();
    const attempts = [
      await api.post("/v1/agents", { name: "minted" }),
      await api.post(`/v1/agents/${agent.id}/rotate-key`),
      await api.post("/v1/org/invitations", { email: uniqueEmail("invitee") }),
      await api.post("/v1/auth/api-keys", { name: "successor" }),
      await api.post("/v1/auth/mfa/setup"),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(403);
      expect(res.body.detail).toMatch(RULE);
      expect(res.text).not.toMatch(/ocv_|1ck_[A-Za-z0-9_-]{10}/);
    }
    expect(await counts()).toEqual(before);
    // The agent's key was not rotated: it still signs in.
    expect(await agentToken(server.url, agent.id, agent.apiKey)).toBeTruthy();
    // Positive control: the same credential still does what it may.
    expect((await api.get("/v1/agents")).status).toBe(200);
    expect((await api.patch(`/v1/agents/${agent.id}`, { description: `touched by ${tag}` })).status).toBe(200);
    expect((await api.post("/v1/vaults", { name: `by-${tag}` })).status).toBe(201);
  });

  it("the same owner does all of it with a login JWT", async () => {
    const api = client(server.url, loginJwt);
    const created = await api.post("/v1/agents", { name: "by-login" });
    expect(created.status).toBe(201);
    expect(created.body.api_key).toMatch(/^ocv_/);
    const rotated = await api.post(`/v1/agents/${created.body.agent.id}/rotate-key`);
    expect(rotated.status).toBe(200);
    expect((await api.post("/v1/org/invitations", { email: uniqueEmail("invitee") })).status).toBe(201);
    expect((await api.post("/v1/auth/api-keys", { name: "another" })).status).toBe(201);
    expect((await api.post("/v1/auth/mfa/setup")).status).toBe(200);
  });
});
