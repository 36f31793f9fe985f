/**
 * execute_http and list_bindings through both MCP transports (stdio `talon-mcp`, hosted `/mcp`): the
 * agent's request reaches a loopback upstream with the secret injected, and the tool's answer holds
 * [REDACTED] where the upstream echoed it — never the value itself.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { grant } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";
import { type Receiver, startReceiver } from "../helpers/webhook-receiver";
import { registerAgent } from "../helpers/agents";
import { call, connectHttp, connectStdio, NO_LIMITS, type McpConnection } from "./helpers";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";

const CANARY = `cnry-mcp-${randomUUID()}`;
let server: TestServer;
let upstream: Receiver;
let vaultId: string;
let agent: { id: string; apiKey: string };

beforeAll(async () => {
  server = await startTestServer({ env: NO_LIMITS });
  upstream = await startReceiver((_n, r) => ({ status: 201, body: `you sent ${String(r.headers["x-api-key"])} to ${r.path}` }));
  const human = await signUpVerified(server);
  const api = client(server.url, human.token);
  vaultId = (await api.post("/v1/vaults", { name: `mcp-exec-${randomUUID().slice(0, 6)}` })).body.id;
  expect((await api.put(`/v1/vaults/${vaultId}/secrets/svc/key`, { value: CANARY })).status).toBe(201);
  agent = await registerAgent(server.url, human.token);
  await grant(api, vaultId, { secret_path_pattern: "svc/**", principal_type: "agent", principal_id: agent.id, permissions: ["use"] });
  const b = await api.post(`/v1/vaults/${vaultId}/bindings`, {
    name: "svc",
    secret_path: "svc/key",
    scheme: "http",
    host: "127.0.0.1",
    port: upstream.port,
    path_prefix: "/v1/",
    methods: ["GET", "POST"],
    inject: { kind: "header", header_name: "X-Api-Key" },
    internal: true,
  });
  expect(b.status).toBe(201);
});
afterAll(async () => {
  await upstream?.close();
  await server?.close();
});

describe.each(["stdio", "http"] as const)("execute_http over %s", (transport) => {
  let mcp: McpConnection;
  beforeAll(async () => {
    mcp =
      transport === "stdio"
        ? await connectStdio({ ONECLAW_AGENT_ID: agent.id, ONECLAW_AGENT_API_KEY: agent.apiKey, ONECLAW_VAULT_ID: vaultId, ONECLAW_BASE_URL: server.url })
        : await connectHttp(server.url, { Authorization: `Bearer ${agent.apiKey}`, "X-Vault-ID": vaultId });
  });
  afterAll(async () => mcp?.close());

  test("list_bindings shows the binding; execute_http injects the value upstream and returns the answer redacted", async () => {
    const { tools } = await mcp.client.listTools();
    const schema = tools.find((t) => t.name === "execute_http")!.inputSchema;
    expect(Object.keys(schema.properties ?? {}).sort()).toEqual(["binding", "body", "headers", "method", "path", "query"]);
    const listed = await call(mcp.client, "list_bindings");
    expect(listed.isError).toBe(false);
    expect((listed.data.bindings as { name: string }[]).map((b) => b.name)).toEqual(["svc"]);

    const r = await call(mcp.client, "execute_http", { binding: "svc", method: "POST", path: "/v1/things", body: "{}", headers: { "Content-Type": "application/json" } });
    expect(r.isError, r.text).toBe(false);
    expect(upstream.received.at(-1)!.headers["x-api-key"]).toBe(CANARY);
    expect(r.data.status).toBe(201);
    expect(r.data.body).toBe("you sent [REDACTED] to /v1/things");
    expect(r.text.includes(CANARY)).toBe(false);

    const outside = await call(mcp.client, "execute_http", { binding: "svc", path: "/admin" });
    expect(outside.isError).toBe(true);
    expect(outside.text).toMatch(/path_prefix/);
  });
});
