/**
 * Bench fixtures for the agent rows: an agent granted `read` on `bench/**` by a policy (so every read
 * is policy-checked and audited like the real workload), its `ocv_` key, a JWT exchanged from it, and a
 * hosted MCP session on the vault. Each step checks its answer, so a row never measures refusals.
 */
import { api } from "../talon-process";

export type BenchAgent = { agentId: string; apiKey: string; token: string };

function expectStatus(what: string, r: { status: number; body: unknown }, status: number): Record<string, unknown> {
  if (r.status !== status) throw new Error(`${what} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body as Record<string, unknown>;
}

export async function setupReadAgent(baseUrl: string, humanToken: string, vaultId: string): Promise<BenchAgent> {
  const created = expectStatus("registering the agent", await api(baseUrl, "POST", "/v1/agents", { name: "bench-reader" }, humanToken), 201);
  const agentId = String((created.agent as { id: string }).id);
  const apiKey = String(created.api_key);
  const policy = { principal_type: "agent", principal_id: agentId, secret_path_pattern: "bench/**", permissions: ["read"] };
  expectStatus("granting the agent", await api(baseUrl, "POST", `/v1/vaults/${vaultId}/policies`, policy, humanToken), 201);
  const exchanged = expectStatus("agent-token", await api(baseUrl, "POST", "/v1/auth/agent-token", { agent_id: agentId, api_key: apiKey }), 200);
  return { agentId, apiKey, token: String(exchanged.access_token) };
}

export const MCP_PROTOCOL_VERSION = "2025-06-18";

/** Opens a hosted MCP session for the agent on the vault; returns the headers every later request carries. */
export async function openMcpSession(baseUrl: string, agent: BenchAgent, vaultId: string): Promise<Record<string, string>> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    Accept: "application/json, text/event-stream",
    Authorization: `Bearer ${agent.token}`,
    "X-Vault-ID": vaultId,
  };
  const init = await fetch(`${baseUrl}/mcp`, {
    method: "POST",
    headers,
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: MCP_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "bench", version: "1" } } }),
  });
  const sessionId = init.headers.get("mcp-session-id");
  if (init.status !== 200 || !sessionId) throw new Error(`MCP initialize answered ${init.status}: ${await init.text()}`);
  await init.text();
  const session = { ...headers, "Mcp-Session-Id": sessionId, "Mcp-Protocol-Version": MCP_PROTOCOL_VERSION };
  const initialized = await fetch(`${baseUrl}/mcp`, { method: "POST", headers: session, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) });
  await initialized.text();
  if (initialized.status !== 202 && initialized.status !== 200) throw new Error(`MCP notifications/initialized answered ${initialized.status}`);
  return session;
}

export const mcpGetSecretBody = (id: number, path: string) =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "get_secret", arguments: { path } } });

/** One tools/call, checked: a tool error (refused read) would otherwise be a 200 the bench counts as served. */
export async function checkMcpGetSecret(baseUrl: string, session: Record<string, string>, path: string): Promise<void> {
  const r = await fetch(`${baseUrl}/mcp`, { method: "POST", headers: session, body: mcpGetSecretBody(1, path) });
  const text = await r.text();
  const body = JSON.parse(text) as { result?: { isError?: boolean } };
  if (r.status !== 200 || !body.result || body.result.isError) throw new Error(`MCP get_secret answered ${r.status}: ${text.slice(0, 300)}`);
}
