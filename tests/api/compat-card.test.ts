import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { NO_LIMITS, registerAgent } from "../helpers/agents";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Drop-in compatibility with the card's clients (issue 16, "Shapes and inputs"): each test sends
 * exactly what the card's curl table, SDK or MCP server sends and checks the fields they read.
 */
let server: TestServer;
let human: Awaited<ReturnType<typeof signUpVerified>>;

beforeAll(async () => {
  server = await startTestServer({ env: NO_LIMITS });
  human = await signUpVerified(server);
});
afterAll(async () => {
  await server?.close();
});

describe("GET /v1/auth/api-keys", () => {
  it("lists under `keys` (the card's SDK reads it), `api_keys` kept as an alias", async () => {
    const user = client(server.url, human.token);
    const created = await user.post("/v1/auth/api-keys", { name: "ci" });
    expect(created.status).toBe(201);
    const list = await user.get("/v1/auth/api-keys");
    expect(list.status).toBe(200);
    expect(list.body.keys).toEqual([created.body.key]);
    expect(list.body.api_keys).toEqual(list.body.keys);
    expect(list.text).not.toContain(created.body.api_key);
  });
});

describe("POST /v1/auth/agent-token", () => {
  it("answers the card's shape for { agent_id, api_key }: token_type \"bearer\"", async () => {
    const agent = await registerAgent(server.url, human.token);
    const res = await client(server.url).post("/v1/auth/agent-token", { agent_id: agent.id, api_key: agent.apiKey });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ access_token: expect.any(String), token_type: "bearer", expires_in: 3600, agent_id: agent.id });
    expect((await client(server.url, res.body.access_token).get("/v1/agents/me")).status).toBe(200);
  });

  it("accepts { api_key } alone: the key's prefix names the agent", async () => {
    const agent = await registerAgent(server.url, human.token);
    const res = await client(server.url).post("/v1/auth/agent-token", { api_key: agent.apiKey });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: "bearer", agent_id: agent.id });
    const me = await client(server.url, res.body.access_token).get("/v1/agents/me");
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(agent.id);
  });

  it("refuses a right prefix with a wrong secret, an unknown key and a malformed one with the same 401", async () => {
    const agent = await registerAgent(server.url, human.token);
    const samePrefix = agent.apiKey.slice(0, 16) + (agent.apiKey.at(16) === "A" ? "B" : "A") + agent.apiKey.slice(17);
    const unknown = `ocv_${randomUUID().replace(/-/g, "")}${"A".repeat(11)}`;
    const bodies = [];
    for (const api_key of [samePrefix, unknown, "not-a-key"]) {
      const res = await client(server.url).post("/v1/auth/agent-token", { api_key });
      expect(res.status, api_key).toBe(401);
      bodies.push({ ...res.body, request_id: undefined });
    }
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
    // The agent whose prefix was used records the failure in its org's log.
    const failures = await server.rt.db.auditEvent.findMany({ where: { action: "auth.failure", resourceId: agent.id } });
    expect(failures).toHaveLength(1);
  });

  it("still needs agent_id without an api_key (mtls, OIDC): 400 naming it", async () => {
    const res = await client(server.url).post("/v1/auth/agent-token", { client_assertion: "x.y.z" });
    expect(res.status).toBe(400);
    expect(res.text).toContain("agent_id");
  });
});
