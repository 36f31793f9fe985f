/**
 * The hosted `/mcp` boundary: who may open a session, for which vault, and how often. Every refusal
 * is paired with the same actor succeeding where allowed.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { registerAgent } from "../helpers/agents";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";
import { agentWithVault, call, connectHttp, initialize, NO_LIMITS, sendInSession } from "./helpers";
import { TOOLS } from "../../lib/mcp/tools";

describe("hosted /mcp session start", () => {
  let server: TestServer;
  let w: Awaited<ReturnType<typeof agentWithVault>>;
  beforeAll(async () => {
    server = await startTestServer({ env: NO_LIMITS });
    w = await agentWithVault(server);
  });
  afterAll(async () => server?.close());

  test("an agent key with X-Vault-ID opens a session; without X-Vault-ID → 400; without a bearer → 401", async () => {
    const ok = await initialize(server.url, { Authorization: `Bearer ${w.apiKey}`, "X-Vault-ID": w.vaultId });
    expect(ok.status).toBe(200);
    expect(ok.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const noVault = await initialize(server.url, { Authorization: `Bearer ${w.apiKey}` });
    expect(noVault.status).toBe(400);
    expect(JSON.parse(noVault.body).detail).toContain("X-Vault-ID");
    expect((await initialize(server.url, { "X-Vault-ID": w.vaultId })).status).toBe(401);
    expect((await initialize(server.url, { Authorization: "Bearer ocv_not-a-real-key", "X-Vault-ID": w.vaultId })).status).toBe(401);
    await expect(connectHttp(server.url, { Authorization: `Bearer ${w.apiKey}` })).rejects.toThrow();
  });

  test("the agent's JWT works too; a user's 1ck_ key or JWT → 403", async () => {
    const jwt = (await client(server.url).post("/v1/auth/agent-token", { agent_id: w.agentId, api_key: w.apiKey })).body.access_token as string;
    const viaJwt = await connectHttp(server.url, { Authorization: `Bearer ${jwt}`, "X-Vault-ID": w.vaultId });
    expect((await call(viaJwt.client, "list_secrets")).isError).toBe(false);
    await viaJwt.close();

    const key = await w.api.post("/v1/auth/api-keys", { name: "mine" });
    expect(key.status).toBe(201);
    const userKey = await initialize(server.url, { Authorization: `Bearer ${key.body.api_key}`, "X-Vault-ID": w.vaultId });
    expect(userKey.status).toBe(403);
    expect(JSON.parse(userKey.body).detail).toContain("for agents");
    expect((await initialize(server.url, { Authorization: `Bearer ${w.human.token}`, "X-Vault-ID": w.vaultId })).status).toBe(403);
    // Control: the same key is valid on the REST API.
    expect((await client(server.url, key.body.api_key).get("/v1/vaults")).status).toBe(200);
  });

  test("a vault outside the agent's vault_ids → 403; another org's vault → 404", async () => {
    const other = await w.api.post("/v1/vaults", { name: `other-${Date.now()}` });
    const bound = await registerAgent(server.url, w.human.token, { vault_ids: [w.vaultId] });
    expect((await initialize(server.url, { Authorization: `Bearer ${bound.apiKey}`, "X-Vault-ID": w.vaultId })).status).toBe(200);
    const outside = await initialize(server.url, { Authorization: `Bearer ${bound.apiKey}`, "X-Vault-ID": other.body.id });
    expect(outside.status).toBe(403);

    const stranger = await signUpVerified(server);
    const foreign = await client(server.url, stranger.token).post("/v1/vaults", { name: "foreign" });
    expect(foreign.status).toBe(201);
    expect((await initialize(server.url, { Authorization: `Bearer ${w.apiKey}`, "X-Vault-ID": foreign.body.id })).status).toBe(404);
    expect((await initialize(server.url, { Authorization: `Bearer ${w.apiKey}`, "X-Vault-ID": "not-a-uuid" })).status).toBe(400);
  });

  test("a session is bound to its agent and vault: another agent presenting its id gets 404", async () => {
    const opened = await initialize(server.url, { Authorization: `Bearer ${w.apiKey}`, "X-Vault-ID": w.vaultId });
    const other = await agentWithVault(server);
    const list = (auth: string, vault: string) =>
      fetch(`${server.url}/mcp`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json, text/event-stream",
          Authorization: `Bearer ${auth}`,
          "X-Vault-ID": vault,
          "Mcp-Session-Id": opened.sessionId!,
          "Mcp-Protocol-Version": "2025-06-18",
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
      });
    expect((await list(other.apiKey, other.vaultId)).status).toBe(404);
    // Control: the owner of the session can use it.
    const own = await list(w.apiKey, w.vaultId);
    expect(own.status).toBe(200);
    expect(((await own.json()) as { result: { tools: unknown[] } }).result.tools.length).toBe(TOOLS.length);
    // DELETE ends the session; its id is then unknown.
    const ended = await fetch(`${server.url}/mcp`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${w.apiKey}`, "X-Vault-ID": w.vaultId, "Mcp-Session-Id": opened.sessionId!, "Mcp-Protocol-Version": "2025-06-18" },
    });
    expect(ended.status).toBe(200);
    expect((await list(w.apiKey, w.vaultId)).status).toBe(404);
  });

  /** One session request with the given bearer, vault and raw body (a tools/list by default). */
  const send = (sessionId: string, auth: string, vault: string, body?: string, contentType?: string) => sendInSession(server.url, sessionId, auth, vault, body, contentType);

  test("the vault is checked on every request of a session: deleted mid-session → 404, binding revoked → 403", async () => {
    const own = await agentWithVault(server);
    const spare = await own.api.post("/v1/vaults", { name: `spare-${Date.now()}` });
    expect(spare.status).toBe(201);
    const opened = await initialize(server.url, { Authorization: `Bearer ${own.apiKey}`, "X-Vault-ID": own.vaultId });
    expect(opened.status).toBe(200);
    // Control: the session works, then the vault is deleted and the same session is refused.
    expect((await send(opened.sessionId!, own.apiKey, own.vaultId)).status).toBe(200);
    expect((await own.api.delete(`/v1/vaults/${own.vaultId}`)).status).toBe(204);
    const gone = await send(opened.sessionId!, own.apiKey, own.vaultId);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { detail: string }).detail).toContain("Vault not found");

    // A session in the spare vault, then the agent's binding is narrowed to another vault.
    const inSpare = await initialize(server.url, { Authorization: `Bearer ${own.apiKey}`, "X-Vault-ID": spare.body.id });
    expect(inSpare.status).toBe(200);
    expect((await send(inSpare.sessionId!, own.apiKey, spare.body.id)).status).toBe(200);
    const third = await own.api.post("/v1/vaults", { name: `third-${Date.now()}` });
    expect((await own.api.patch(`/v1/agents/${own.agentId}`, { vault_ids: [third.body.id] })).status).toBe(200);
    expect((await send(inSpare.sessionId!, own.apiKey, spare.body.id)).status).toBe(403);
  });

  test("a session request that is not JSON is answered as the transport answers it: 415 before 400 Parse error", async () => {
    const opened = await initialize(server.url, { Authorization: `Bearer ${w.apiKey}`, "X-Vault-ID": w.vaultId });
    const notJson = await send(opened.sessionId!, w.apiKey, w.vaultId, "{not json");
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: number } }).error.code).toBe(-32700);
    const wrongType = await send(opened.sessionId!, w.apiKey, w.vaultId, "{not json", "text/plain");
    expect(wrongType.status).toBe(415);
    // Control: the session still serves a well-formed request.
    expect((await send(opened.sessionId!, w.apiKey, w.vaultId)).status).toBe(200);
  });
});

test("hosted /mcp is rate limited per IP (TALON_MCP_RATE_LIMIT_PER_MINUTE)", async () => {
  const server = await startTestServer({ env: { ...NO_LIMITS, TALON_KEYSTORE: "local", TALON_MCP_RATE_LIMIT_PER_MINUTE: "3" } });
  try {
    const w = await agentWithVault(server);
    const headers = { Authorization: `Bearer ${w.apiKey}`, "X-Vault-ID": w.vaultId };
    for (let i = 0; i < 3; i++) expect((await initialize(server.url, headers)).status).toBe(200);
    const limited = await initialize(server.url, headers);
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    // The REST API is not affected by the MCP budget.
    expect((await client(server.url, w.apiKey).get("/v1/vaults")).status).toBe(200);
  } finally {
    await server.close();
  }
});
