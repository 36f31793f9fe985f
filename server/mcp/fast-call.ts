import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";

/**
 * A single `tools/call` of an open hosted session, answered without the SDK's HTTP transport.
 *
 * Profiled under the bench's MCP row, the transport (`WebStandardStreamableHTTPServerTransport`, SDK
 * 1.x) cost ≈ 60–70 µs per call before the tool ran — the JSON-RPC union parsed with zod, a failing
 * `safeParse` per type guard (each building its issues), the request headers copied into an object,
 * `new URL`, an AbortController, the stream bookkeeping — against ≈ 12 µs for the SDK's own
 * `tools/call` handler, which is what does the MCP work: the CallToolRequest and CallToolResult
 * schemas, the tool's zod input (its "Input validation error" results), unknown and disabled tools.
 *
 * So a request that is plainly one well-formed `tools/call` goes to that same registered handler
 * (the one the transport would reach through `Protocol._onrequest`) and is answered as the transport
 * answers it in JSON-response mode: 200, `Content-Type: application/json`, `mcp-session-id`, body
 * `{result, jsonrpc, id}` (or `{jsonrpc, id, error}` when the handler throws). Anything else — a batch,
 * another method, `_meta` or task augmentation, extra members, a header the transport would refuse,
 * a transport not (or no longer) open — returns null and goes through the transport unchanged, so
 * every error answer is still the SDK's own. The tool itself is the same code on both paths, and its
 * API calls go through the same in-process client and REST pipeline.
 */

/** What a caller may turn off (tests compare both paths) and how often the fast path answered. */
export const mcpFastCall = { enabled: true, served: 0 };

type Handler = (request: unknown, extra: unknown) => Promise<unknown>;
/** The SDK's private bookkeeping (Protocol / transport, SDK 1.x) this path reads. */
type ServerInternals = { _requestHandlers?: Map<string, Handler> };
type TransportInternals = { _closed?: boolean; _initialized?: boolean; _enableJsonResponse?: boolean };

const MESSAGE_KEYS = new Set(["jsonrpc", "id", "method", "params"]);
const NEVER_ABORTED = new AbortController().signal;

export type FastCallRequest = {
  body: unknown;
  sessionId: string;
  header(name: string): string | undefined;
};

/** The `tools/call` message, when it is one the fast path may answer; else null. */
function plainToolCall(body: unknown): { id: string | number; params: Record<string, unknown> } | null {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return null;
  const m = body as Record<string, unknown>;
  for (const k in m) if (!MESSAGE_KEYS.has(k)) return null;
  if (m.jsonrpc !== "2.0" || m.method !== "tools/call") return null;
  const id = m.id;
  if (!(typeof id === "string" || (typeof id === "number" && Number.isSafeInteger(id)))) return null;
  const params = m.params;
  if (params === null || typeof params !== "object" || Array.isArray(params)) return null;
  const p = params as Record<string, unknown>;
  // Progress tokens, related tasks and task augmentation stay with the SDK's full path.
  if (p._meta !== undefined || p.task !== undefined) return null;
  return { id, params: p };
}

export function fastToolCall(server: McpServer, transport: WebStandardStreamableHTTPServerTransport, req: FastCallRequest): Promise<Response> | null {
  if (!mcpFastCall.enabled) return null;
  const call = plainToolCall(req.body);
  if (!call) return null;
  const t = transport as unknown as TransportInternals;
  if (t._closed !== false || t._initialized !== true || t._enableJsonResponse !== true || transport.sessionId !== req.sessionId) return null;
  // The transport's own header checks: anything it would refuse goes to it for its answer.
  const accept = req.header("accept");
  if (!accept?.includes("application/json") || !accept.includes("text/event-stream")) return null;
  if (req.header("content-type") !== "application/json") return null;
  const version = req.header("mcp-protocol-version");
  if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return null;
  const handler = (server.server as unknown as ServerInternals)._requestHandlers?.get("tools/call");
  if (typeof handler !== "function") return null;
  mcpFastCall.served++;
  return answer(server, handler, call.id, { jsonrpc: "2.0", id: call.id, method: "tools/call", params: call.params }, req.sessionId);
}

async function answer(server: McpServer, handler: Handler, id: string | number, request: unknown, sessionId: string): Promise<Response> {
  // What Protocol._onrequest hands a handler (no task store, no related task on this path).
  const extra = {
    signal: NEVER_ABORTED,
    sessionId,
    _meta: undefined,
    requestId: id,
    sendNotification: (notification: Parameters<McpServer["server"]["notification"]>[0]) => server.server.notification(notification, { relatedRequestId: id }),
    sendRequest: (r: never, schema: never, options?: object) => server.server.request(r, schema, { ...options, relatedRequestId: id }),
  };
  let message: unknown;
  try {
    const result = await handler(request, extra);
    message = { result, jsonrpc: "2.0", id };
  } catch (e) {
    // As Protocol._onrequest turns a handler's failure into a JSON-RPC error.
    const error = (e ?? {}) as { code?: unknown; message?: unknown; data?: unknown };
    message = {
      jsonrpc: "2.0",
      id,
      error: {
        code: Number.isSafeInteger(error.code) ? error.code : -32603,
        message: error.message ?? "Internal error",
        ...(error.data !== undefined && { data: error.data }),
      },
    };
  }
  return new Response(JSON.stringify(message), { status: 200, headers: { "Content-Type": "application/json", "mcp-session-id": sessionId } });
}
