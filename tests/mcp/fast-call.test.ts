/**
 * The hosted session's `tools/call` fast path (server/mcp/fast-call.ts): the same answers as the SDK's
 * transport, byte for byte, for the calls it takes and for the ones it leaves to the transport; and
 * the checks of the tool's API call (policies, audit, redaction) still apply when it answers.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mcpFastCall } from "../../server/mcp/fast-call";
import { grant } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";
import { agentWithVault, NO_LIMITS } from "./helpers";

const BASE_HEADERS = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };
const INITIALIZE = {
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};
const VALUE_A = "fast-path-value-a-7f3c9e21";

type Answer = { status: number; contentType: string | null; sessionId: string | null; body: string };

let server: TestServer;
let w: Awaited<ReturnType<typeof agentWithVault>>;
let headers: Record<string, string>;

async function post(body: unknown, extra: Record<string, string> = {}, raw?: string): Promise<Answer> {
  const res = await fetch(`${server.url}/mcp`, { method: "POST", headers: { ...headers, ...extra }, body: raw ?? JSON.stringify(body) });
  // Each API call has its own request id, which error texts quote.
  const text = (await res.text()).replace(/Request id: [0-9a-f-]{36}/g, "Request id: <id>");
  return { status: res.status, contentType: res.headers.get("content-type"), sessionId: res.headers.get("mcp-session-id"), body: text };
}

/** The same request answered by the transport (fast path off), then with the fast path on; and whether the fast path took it. */
async function both(body: unknown, extra: Record<string, string> = {}, raw?: string): Promise<{ sdk: Answer; fast: Answer; took: boolean }> {
  mcpFastCall.enabled = false;
  const sdk = await post(body, extra, raw);
  mcpFastCall.enabled = true;
  const before = mcpFastCall.served;
  const fast = await post(body, extra, raw);
  return { sdk, fast, took: mcpFastCall.served > before };
}

const toolCall = (id: unknown, name: string, args?: unknown) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, ...(args === undefined ? {} : { arguments: args }) } });
const resultOf = (a: Answer) => JSON.parse(a.body) as { result?: { isError?: boolean; content: Array<{ text: string }>; structuredContent?: Record<string, unknown> }; error?: unknown };

beforeAll(async () => {
  server = await startTestServer({ env: NO_LIMITS });
  w = await agentWithVault(server);
  await grant(w.api, w.vaultId, {
    principal_type: "agent",
    principal_id: w.agentId,
    secret_path_pattern: "denied/**",
    permissions: ["read", "write"],
    effect: "deny",
  });
  for (const [path, body] of [
    ["fast/a", { value: VALUE_A }],
    ["fast/b", { value: "fast-path-value-b-0c1d", metadata: { note: `copied from ${VALUE_A}` } }],
    ["denied/x", { value: "never-shown-value-x" }],
    ["fast/audited", { value: "fast-path-audited-value" }],
  ] as const) {
    expect((await w.api.put(`/v1/vaults/${w.vaultId}/secrets/${path}`, body)).status).toBe(201);
  }
  headers = { ...BASE_HEADERS, Authorization: `Bearer ${w.apiKey}`, "X-Vault-ID": w.vaultId };
  const init = await post(INITIALIZE);
  expect(init.status).toBe(200);
  headers["Mcp-Session-Id"] = init.sessionId!;
  headers["Mcp-Protocol-Version"] = "2025-06-18";
  expect((await post({ jsonrpc: "2.0", method: "notifications/initialized" })).status).toBe(202);
});
afterAll(async () => {
  mcpFastCall.enabled = true;
  await server?.close();
});

describe("hosted MCP tools/call fast path", () => {
  test("answers a plain tools/call exactly as the transport does (results, tool errors, protocol errors)", async () => {
    const cases: Array<[string, unknown]> = [
      ["get_secret", toolCall(1, "get_secret", { path: "fast/a" })],
      ["string id", toolCall("call-7", "get_secret", { path: "fast/a" })],
      ["list_secrets", toolCall(2, "list_secrets", {})],
      ["describe_secret", toolCall(3, "describe_secret", { path: "fast/b" })],
      ["missing secret (404 text)", toolCall(4, "get_secret", { path: "fast/none" })],
      ["denied by policy (403 text)", toolCall(5, "get_secret", { path: "denied/x" })],
      ["invalid arguments", toolCall(6, "get_secret", { path: 42 })],
      ["missing arguments", toolCall(7, "get_secret")],
      ["unknown tool", toolCall(8, "no_such_tool", {})],
      ["params without name", { jsonrpc: "2.0", id: 9, method: "tools/call", params: { arguments: {} } }],
    ];
    for (const [label, message] of cases) {
      const { sdk, fast, took } = await both(message);
      expect({ label, took }).toEqual({ label, took: true });
      expect({ label, ...fast }).toEqual({ label, ...sdk });
    }
    // The answers are the real ones, not two copies of the same error.
    const got = resultOf((await both(toolCall(10, "get_secret", { path: "fast/a" }))).fast);
    expect(got.result?.structuredContent?.value).toBe(VALUE_A);
  });

  test("leaves everything else to the transport, whose answers are unchanged", async () => {
    const cases: Array<[string, unknown, Record<string, string>?, string?]> = [
      ["batch", [toolCall(20, "list_secrets", {})]],
      ["tools/list", { jsonrpc: "2.0", id: 21, method: "tools/list" }],
      ["_meta progress token", { ...toolCall(22, "list_secrets", {}), params: { name: "list_secrets", arguments: {}, _meta: { progressToken: 5 } } }],
      ["extra member", { ...toolCall(23, "list_secrets", {}), extra: true }],
      ["fractional id", toolCall(1.5, "list_secrets", {})],
      ["no jsonrpc version", { id: 24, method: "tools/call", params: { name: "list_secrets" } }],
      ["unsupported protocol version", toolCall(25, "list_secrets", {}), { "Mcp-Protocol-Version": "1999-01-01" }],
      ["Accept without event-stream", toolCall(26, "list_secrets", {}), { Accept: "application/json" }],
      ["Content-Type with charset", toolCall(27, "list_secrets", {}), { "Content-Type": "application/json; charset=utf-8" }],
      ["wrong Content-Type", toolCall(28, "list_secrets", {}), { "Content-Type": "text/plain" }],
      ["not JSON", null, {}, "{not json"],
    ];
    for (const [label, message, extra, raw] of cases) {
      const { sdk, fast, took } = await both(message, extra, raw);
      expect({ label, took }).toEqual({ label, took: false });
      expect({ label, ...fast }).toEqual({ label, ...sdk });
    }
  });

  test("through the fast path, the tool's API call is still policy-checked, audited and redacted", async () => {
    const before = mcpFastCall.served;
    // Policy: the deny policy refuses the read.
    const denied = resultOf(await post(toolCall(40, "get_secret", { path: "denied/x" })));
    expect(denied.result?.isError).toBe(true);
    expect(denied.result?.content[0]!.text).not.toContain("never-shown-value-x");
    expect(denied.result?.content[0]!.text.toLowerCase()).toMatch(/denied|forbidden|not allowed|permission/);
    // Redaction: once fetched in the session, the value is hidden in other tools' output.
    const fetched = resultOf(await post(toolCall(41, "get_secret", { path: "fast/a" })));
    expect(fetched.result?.structuredContent?.value).toBe(VALUE_A);
    const described = await post(toolCall(42, "describe_secret", { path: "fast/b" }));
    expect(described.body).not.toContain(VALUE_A);
    expect(JSON.stringify(resultOf(described).result?.structuredContent?.metadata)).toContain("[REDACTED]");
    // Audit: the one read of fast/audited (through the fast path) is in the org's audit log as the agent's.
    expect(resultOf(await post(toolCall(43, "get_secret", { path: "fast/audited" }))).result?.isError).toBeUndefined();
    expect(mcpFastCall.served - before).toBe(4);
    const readsOfAudited = async () => {
      const exported = await w.api.get("/v1/audit/export?format=ndjson");
      const events = exported.text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(exported.text).not.toContain("fast-path-audited-value");
      return events.filter((e) => e.action === "secret.read" && String(e.details).includes('"fast/audited"'));
    };
    let reads = await readsOfAudited();
    for (let i = 0; i < 50 && reads.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      reads = await readsOfAudited();
    }
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ actor: `agent:${w.agentId}`, actor_type: "agent", resource_type: "secret" });
  });
});
