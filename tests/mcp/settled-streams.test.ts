import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { releaseSettledJsonStreams } from "../../server/mcp/settled-streams";

/**
 * The hosted MCP transport (the SDK's, JSON-response mode) kept every answered request's stream entry,
 * and with it the answer (a secret value from get_secret), for the session's life. The SDK's own
 * transport and server run here; the test reads the transport's stream table through the same
 * private field the workaround clears.
 */
const SECRET = "sk_live_settled_stream_canary";
const post = (t: WebStandardStreamableHTTPServerTransport, body: unknown, session?: string) =>
  t.handleRequest(
    new Request("http://127.0.0.1/mcp", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...(session ? { "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" } : {}),
      },
      body: JSON.stringify(body),
    }),
  );
const streams = (t: WebStandardStreamableHTTPServerTransport) => (t as unknown as { _streamMapping: Map<string, unknown> })._streamMapping;

async function session(release: boolean, gate?: Promise<void>) {
  const server = new McpServer({ name: "t", version: "1" });
  server.registerTool("get_secret", { inputSchema: { slow: z.boolean().optional() } }, async ({ slow }) => {
    if (slow) await gate;
    return { content: [{ type: "text", text: SECRET }] };
  });
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: () => crypto.randomUUID(), enableJsonResponse: true });
  await server.connect(transport);
  const call = async (body: unknown) => {
    const res = await post(transport, body, transport.sessionId);
    if (release) releaseSettledJsonStreams(transport);
    return res;
  };
  const init = await call({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "c", version: "1" } } });
  expect(init.status).toBe(200);
  await call({ jsonrpc: "2.0", method: "notifications/initialized" });
  const tool = (id: number, slow = false) => call({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "get_secret", arguments: { slow } } });
  return { transport, tool, close: () => server.close() };
}

describe("hosted MCP keeps no answered request's stream", () => {
  it("without the release the SDK keeps one entry per answered call (the leak this guards)", async () => {
    const s = await session(false);
    for (let i = 1; i <= 20; i++) expect((await s.tool(i)).status).toBe(200);
    expect(streams(s.transport).size).toBeGreaterThanOrEqual(20);
    await s.close();
  });

  it("with it, answered calls leave nothing behind and a call still pending keeps its stream and gets its answer", async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const s = await session(true, gate);
    const slow = s.tool(100, true);
    for (let i = 1; i <= 20; i++) {
      const res = await s.tool(i);
      expect(((await res.json()) as { result: { content: { text: string }[] } }).result.content[0]!.text).toBe(SECRET);
    }
    // Only the pending call's stream is left.
    expect(streams(s.transport).size).toBe(1);
    open();
    const late = await slow;
    expect(((await late.json()) as { id: number }).id).toBe(100);
    expect(streams(s.transport).size).toBe(0);
    await s.close();
  });
});
