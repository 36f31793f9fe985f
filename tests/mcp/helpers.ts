import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { signUpVerified } from "../helpers/accounts";
import { registerAgent } from "../helpers/agents";
import { client } from "../helpers/http";
import type { TestServer } from "../helpers/server";

export const MCP_BIN = path.resolve("cli/bin/talon-mcp.mjs");
export const NO_LIMITS = {
  TALON_RATE_LIMIT_IP_PER_MINUTE: "0",
  TALON_RATE_LIMIT_PRINCIPAL_PER_MINUTE: "0",
  TALON_RATE_LIMIT_AUTH_PER_MINUTE: "0",
  TALON_MCP_RATE_LIMIT_PER_MINUTE: "0",
};

/** A human, their vault, and an agent granted read+write on all of it through the real API. */
export async function agentWithVault(server: TestServer) {
  const human = await signUpVerified(server);
  const api = client(server.url, human.token);
  const vault = await api.post("/v1/vaults", { name: `v-${Math.random().toString(36).slice(2, 8)}` });
  if (vault.status !== 201) throw new Error(`vault: ${vault.status} ${vault.text}`);
  const agent = await registerAgent(server.url, human.token);
  const policy = await api.post(`/v1/vaults/${vault.body.id}/policies`, {
    principal_type: "agent",
    principal_id: agent.id,
    secret_path_pattern: "**",
    permissions: ["read", "write"],
  });
  if (policy.status !== 201) throw new Error(`policy: ${policy.status} ${policy.text}`);
  return { human, api, vaultId: vault.body.id as string, agentId: agent.id, apiKey: agent.apiKey };
}

export type McpConnection = { client: Client; stderr: () => string; close(): Promise<void> };

/** The stdio server as an agent framework runs it: `node cli/bin/talon-mcp.mjs` with the ONECLAW_* env only. */
export async function connectStdio(env: Record<string, string>): Promise<McpConnection> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MCP_BIN],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const c = new Client({ name: "talon-test", version: "1.0.0" });
  await c.connect(transport);
  return { client: c, stderr: () => stderr, close: () => c.close() };
}

export async function connectHttp(baseUrl: string, headers: Record<string, string>): Promise<McpConnection> {
  const transport = new StreamableHTTPClientTransport(new URL("/mcp", baseUrl), { requestInit: { headers } });
  const c = new Client({ name: "talon-test", version: "1.0.0" });
  await c.connect(transport);
  return { client: c, stderr: () => "", close: () => c.close() };
}

export type ToolResult = { isError: boolean; text: string; data: Record<string, unknown> };

export async function call(c: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  const r = (await c.callTool({ name, arguments: args })) as CallToolResult;
  const text = r.content.map((p) => (p.type === "text" ? p.text : "")).join("\n");
  return { isError: r.isError === true, text, data: (r.structuredContent ?? {}) as Record<string, unknown> };
}

const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};

/** A raw `initialize` POST to hosted /mcp: its status, session id, body, Retry-After and all its headers. */
export async function initialize(baseUrl: string, headers: Record<string, string>) {
  const res = await fetch(`${baseUrl}/mcp`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", ...headers },
    body: JSON.stringify(INITIALIZE),
  });
  return { status: res.status, sessionId: res.headers.get("mcp-session-id"), body: await res.text(), retryAfter: res.headers.get("retry-after"), headers: res.headers };
}

/** One raw request of an open hosted session with the given bearer, vault and body (a tools/list by default). */
export const sendInSession = (baseUrl: string, sessionId: string, auth: string, vault: string, body = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }), contentType = "application/json") =>
  fetch(`${baseUrl}/mcp`, {
    method: "POST",
    headers: {
      "Content-Type": contentType,
      Accept: "application/json, text/event-stream",
      Authorization: `Bearer ${auth}`,
      "X-Vault-ID": vault,
      "Mcp-Session-Id": sessionId,
      "Mcp-Protocol-Version": "2025-06-18",
    },
    body,
  });
