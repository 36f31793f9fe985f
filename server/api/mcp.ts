/**
 * Hosted MCP at `/mcp` (Streamable HTTP, the SDK's web-standard transport, JSON responses). A session
 * starts with an `initialize` POST carrying `Authorization: Bearer <agent JWT or ocv_ key>` and
 * `X-Vault-ID`; both are checked then (an agent principal, the vault in its binding and its org) and on
 * every later request of the session, which must come from the same agent for the same vault. A
 * DPoP-bound token needs a fresh `DPoP` proof (htm POST or DELETE, htu Talon's public URL + `/mcp`) on
 * every one of those requests, like any other.
 *
 * Sessions are stateful because redaction is per session: a value fetched by one request must stay
 * hidden from the next. They live in this process's memory (behind a load balancer, route by the
 * `Mcp-Session-Id` header), expire after SESSION_IDLE_MS idle, and are bounded in number.
 * Tools call the REST API in-process through the SDK client with `fetch` bound to this app: the same
 * pipeline (auth, IP rules, policies, audit) as any HTTP caller, without a network hop.
 */
import { randomUUID } from "node:crypto";
import { createRoute, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { problemResponses } from "../../lib/contract/common";
import { ZJsonRpcError, ZMcpHeaders, ZMcpRequestBody, ZMcpResponse } from "../../lib/contract/mcp";
import { createClient, type TalonClient } from "../../lib/sdk";
import { Redactor } from "../../lib/mcp/redaction";
import { createTalonMcpServer } from "../../lib/mcp/server";
import { ApiError } from "../http/errors";
import { requireAuth, type ApiApp, type ApiEnv } from "../http/pipeline";
import type { AgentPrincipal } from "../http/principal";
import { ipBucketKey, TokenBucketLimiter } from "../http/rate-limit";
import type { Runtime } from "../runtime";
import { orgVaultExists } from "../mcp/repo";
import { fastToolCall } from "../mcp/fast-call";
import { inProcessFetch } from "../mcp/in-process";
import { releaseSettledJsonStreams } from "../mcp/settled-streams";

export const MCP_PATH = "/mcp";
const SESSION_IDLE_MS = 30 * 60_000;
const MAX_SESSIONS = 10_000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The in-process origin the tools' client calls; `app.request` never resolves it. */
const IN_PROCESS_ORIGIN = "http://talon.internal";

type Session = {
  agentId: string;
  vaultId: string;
  transport: WebStandardStreamableHTTPServerTransport;
  server: McpServer;
  close(): Promise<void>;
  lastSeen: number;
  /** Rebound on every request, so tools act with the credential (and client IP) of the current one. */
  client: TalonClient;
  /** What `client` was made for (bearer, IP, DPoP key): a request with the same three reuses it. */
  clientKey: string;
};

const mcpLimiters = new WeakMap<Runtime, TokenBucketLimiter>();
function mcpLimiter(rt: Runtime): TokenBucketLimiter {
  let l = mcpLimiters.get(rt);
  if (!l) mcpLimiters.set(rt, (l = new TokenBucketLimiter(rt.config.rateLimits.mcpPerMinute)));
  return l;
}

/**
 * Per IP, before authentication. An unknown address (the Next.js catch-all without trusted proxy
 * hops) is not limited here, as in rateLimitByIp: one shared bucket would let one client starve all.
 */
const rateLimitMcp: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const ip = c.get("ip");
  const wait = ip ? mcpLimiter(c.get("rt")).take(ipBucketKey(ip)) : 0;
  if (wait > 0) throw ApiError.tooManyRequests(`Too many MCP requests from your IP address; retry after ${Math.max(1, Math.ceil(wait))} s`, wait);
  await next();
};

/** The agent and vault a request may open (or continue) a session for; the ApiErrors are the refusals. */
async function checkSessionStart(c: Context<ApiEnv>): Promise<{ agent: AgentPrincipal; vaultId: string }> {
  const principal = c.get("principal");
  if (principal.kind !== "agent") throw ApiError.forbidden("The hosted MCP endpoint is for agents: authenticate with an agent JWT or an ocv_ key");
  const vaultId = c.req.header("x-vault-id")?.trim() ?? "";
  if (!vaultId) throw ApiError.badRequest("Missing X-Vault-ID header (the vault this MCP session acts in)", [{ field: "X-Vault-ID", message: "required" }]);
  if (!UUID_RE.test(vaultId)) throw ApiError.badRequest("X-Vault-ID must be a UUID", [{ field: "X-Vault-ID", message: "must be a UUID" }]);
  const id = vaultId.toLowerCase();
  if (principal.vaultIds.length > 0 && !principal.vaultIds.includes(id)) throw ApiError.forbidden("This agent is not bound to that vault (vault_ids)");
  if (!(await orgVaultExists(c.get("rt").db, principal.orgId, id))) throw ApiError.notFound("Vault not found");
  return { agent: principal, vaultId: id };
}

/**
 * Hands the request to the transport. A POST's body is read here and given to it parsed: reading it
 * through the raw request would wrap the socket in a web Request and stream (the node adapter's slow
 * path). A body that is not JSON goes to the transport as a Request of its own, so it answers exactly
 * as it would have (406 / 415 before 400 Parse error). In an open session (`sessionId`), a plain
 * `tools/call` is answered by the server's own tools/call handler without the transport
 * (server/mcp/fast-call.ts); every other message goes to the transport.
 */
async function serve(c: Context<ApiEnv>, transport: WebStandardStreamableHTTPServerTransport, open?: { server: McpServer; sessionId: string }): Promise<Response> {
  if (c.req.method !== "POST") return transport.handleRequest(c.req.raw);
  // A body that could not be read is answered as the transport answers one: 400 Parse error.
  const text = await c.req.text().catch(() => "");
  let parsedBody: unknown;
  try {
    parsedBody = JSON.parse(text);
  } catch {
    return transport.handleRequest(new Request(c.req.url, { method: "POST", headers: c.req.raw.headers, body: text }));
  }
  if (open) {
    const fast = fastToolCall(open.server, transport, { body: parsedBody, sessionId: open.sessionId, header: (name) => c.req.header(name) });
    if (fast) return fast;
  }
  return transport.handleRequest(c.req.raw, { parsedBody });
}

const SESSION_DESCRIPTION = [
  "Hosted MCP over Streamable HTTP (JSON responses). An agent starts a session with an `initialize` request,",
  "authenticated with an agent JWT or an `ocv_` key and naming its vault in `X-Vault-ID`; the response carries",
  "`Mcp-Session-Id`, which every later request of the session sends with the same credential's agent and vault.",
  "The tools and their inputs are listed by the `tools/list` method.",
].join(" ");
const jsonRpcError = { "application/json": { schema: ZJsonRpcError } };
const sessionHeader = { "Mcp-Session-Id": { description: "The session id (set by the `initialize` response)", schema: { type: "string" as const } } };

const mcpPost = createRoute({
  method: "post",
  path: MCP_PATH,
  tags: ["MCP"],
  summary: "Send MCP messages (JSON-RPC 2.0)",
  description: SESSION_DESCRIPTION,
  request: { headers: ZMcpHeaders, body: { required: true, content: { "application/json": { schema: ZMcpRequestBody } } } },
  responses: {
    200: { description: "The JSON-RPC response(s)", headers: sessionHeader, content: { "application/json": { schema: z.union([ZMcpResponse, z.array(ZMcpResponse)]) } } },
    202: { description: "Accepted: the request held only notifications or responses" },
    400: {
      description: "Missing or invalid X-Vault-ID, no session and not an `initialize` (problem), or malformed JSON-RPC (JSON-RPC error)",
      content: { ...problemResponses(400)[400]!.content, ...jsonRpcError },
    },
    ...problemResponses(401, 403, 404, 429),
    406: { description: "`Accept` must list application/json and text/event-stream", content: jsonRpcError },
    415: { description: "`Content-Type` must be application/json", content: jsonRpcError },
  },
});

const mcpDelete = createRoute({
  method: "delete",
  path: MCP_PATH,
  tags: ["MCP"],
  summary: "End an MCP session",
  description: "Ends the session named in `Mcp-Session-Id`; only the agent that opened it, for the same vault, can.",
  request: { headers: ZMcpHeaders },
  responses: { 200: { description: "The session is closed" }, ...problemResponses(400, 401, 403, 404, 429) },
});

const mcpGet = createRoute({
  method: "get",
  path: MCP_PATH,
  tags: ["MCP"],
  summary: "Server-initiated stream (not offered)",
  description: "This server sends no unsolicited messages, so it opens no SSE stream: always 405 with `Allow: POST, DELETE`, as the MCP specification provides.",
  security: [],
  responses: {
    405: { description: "Method not allowed", headers: { Allow: { description: "POST, DELETE", schema: { type: "string" } } }, content: problemResponses(405)[405]!.content },
  },
});

export function registerMcpRoutes(app: ApiApp) {
  const sessions = new Map<string, Session>();

  /** The client for this request's credential, IP and DPoP key: the session's own when those did not change. */
  const clientKeyOf = (c: Context<ApiEnv>): string => {
    const principal = c.get("principal");
    return `${c.get("bearer")}\0${c.get("ip") ?? ""}\0${principal.kind === "agent" ? (principal.dpopJkt ?? "") : ""}`;
  };
  const clientFor = (c: Context<ApiEnv>): TalonClient => {
    const ip = c.get("ip");
    const principal = c.get("principal");
    // The inner requests carry the caller's address, so IP rules and policy conditions see it. A
    // DPoP-bound token's key was proven by this request's own proof (htu …/mcp); the tools' API calls
    // made while serving it are attested in process instead of needing proofs only the agent can sign.
    const env = {
      ...(ip ? { incoming: { socket: { remoteAddress: ip } } } : {}),
      ...(principal.kind === "agent" && principal.dpopJkt ? { dpopAttestedJkt: principal.dpopJkt } : {}),
    };
    return createClient({
      baseUrl: IN_PROCESS_ORIGIN,
      token: c.get("bearer"),
      headers: { "User-Agent": "talon-hosted-mcp" },
      fetch: inProcessFetch(app, env),
    });
  };

  const sweep = (now: number) => {
    for (const [id, s] of sessions) if (now - s.lastSeen > SESSION_IDLE_MS) void dropSession(id);
    // Map order is creation order: past the cap, the oldest sessions go.
    for (const id of sessions.keys()) {
      if (sessions.size < MAX_SESSIONS) break;
      void dropSession(id);
    }
  };
  const dropSession = async (id: string) => {
    const s = sessions.get(id);
    sessions.delete(id);
    await s?.close().catch(() => undefined);
  };

  async function openSession(c: Context<ApiEnv>, agent: AgentPrincipal, vaultId: string): Promise<Response> {
    sweep(Date.now());
    const { WebStandardStreamableHTTPServerTransport } = await import("@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js");
    const session: Partial<Session> & { client: TalonClient } = { agentId: agent.agentId, vaultId, lastSeen: Date.now(), client: clientFor(c), clientKey: clientKeyOf(c) };
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (id) => void sessions.set(id, session as Session),
      onsessionclosed: (id) => void sessions.delete(id),
    });
    const server = await createTalonMcpServer({ client: () => session.client, vaultId, redactor: new Redactor() });
    session.transport = transport;
    session.server = server;
    session.close = () => server.close();
    await server.connect(transport);
    const res = await serve(c, transport);
    releaseSettledJsonStreams(transport);
    // Anything but a successful initialize leaves no session behind.
    if (!transport.sessionId) await server.close();
    return res;
  }

  const handle = async (c: Context<ApiEnv>): Promise<Response> => {
    const { agent, vaultId } = await checkSessionStart(c);
    const sessionId = c.req.header("mcp-session-id");
    if (!sessionId) {
      if (c.req.method !== "POST") throw ApiError.badRequest("Start an MCP session with an initialize POST");
      return openSession(c, agent, vaultId);
    }
    const session = sessions.get(sessionId);
    // Another agent's (or another vault's) session is indistinguishable from an unknown one.
    if (!session || session.agentId !== agent.agentId || session.vaultId !== vaultId) throw ApiError.notFound("MCP session not found; start a new one with initialize");
    session.lastSeen = Date.now();
    const clientKey = clientKeyOf(c);
    if (clientKey !== session.clientKey) {
      session.client = clientFor(c);
      session.clientKey = clientKey;
    }
    const res = await serve(c, session.transport, { server: session.server, sessionId });
    releaseSettledJsonStreams(session.transport);
    return res;
  };

  // GET would open a server-to-client SSE stream; this server sends no unsolicited messages.
  app.get(MCP_PATH, () => {
    throw new ApiError(405, "This MCP server sends no server-initiated stream: use POST (and DELETE to end a session)", { headers: { Allow: "POST, DELETE" } });
  });
  app.post(MCP_PATH, rateLimitMcp, requireAuth, handle);
  app.delete(MCP_PATH, rateLimitMcp, requireAuth, handle);
  // The transport parses the JSON-RPC bodies itself, so these routes are documented, not validated.
  for (const route of [mcpGet, mcpPost, mcpDelete]) app.openAPIRegistry.registerPath(route);
}
