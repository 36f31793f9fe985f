import { randomUUID } from "node:crypto";
import { IncomingMessage } from "node:http";
import type { Context, MiddlewareHandler, Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { ZodError } from "zod";
import type { AtOnce } from "../../lib/at-once";
import { fieldErrorsOf } from "../../lib/contract/field-errors";
import { APPROVAL_REASON_MAX } from "../../lib/contract/approvals";
import { giveBackApprovals } from "../approvals/gate";
import { AGENT_KEY_PREFIX } from "../agents/api-keys";
import { PERSONAL_KEY_PREFIX } from "../identity/personal-key";
import { authenticateBearer } from "../identity/authenticate";
import { log } from "../log";
import type { AuthFailureKind } from "../metrics";
import type { Runtime } from "../runtime";
import { ApiError, databaseOutage, internalProblem, type Problem, problemBody } from "./errors";
import { resolveClientIp } from "./client-ip";
import { guardAuthenticatedRequest } from "./ip-rules";
import { apiSecurityHeaders } from "./security-headers";
import { parseAuthorization } from "./authorization";
import { presetHeaders } from "./preset-headers";
import { meterRequest } from "./metering";
import { routeTemplateOf } from "./route-template";
import type { ApiApp, ApiEnv } from "./env";
import type { Ctx, Principal, PublicCtx } from "./principal";

export type { ApiApp, ApiEnv } from "./env";

export const MAX_BODY_BYTES = 64 * 1024;

/** Request id, client IP, the headers every API response carries, and the request's metrics. */
export function requestContext(rt: Runtime): MiddlewareHandler<ApiEnv> {
  // A route that may be cached (JWKS) sets its own Cache-Control.
  const fixedHeaders: [string, string][] = [["Cache-Control", "no-store"], ...Object.entries(apiSecurityHeaders(rt.config))];
  return async (c, next) => {
    const started = performance.now();
    const requestId = randomUUID();
    c.set("rt", rt);
    c.set("requestId", requestId);
    c.set("ip", resolveClientIp(c.env?.incoming?.socket?.remoteAddress, c.req.header("x-forwarded-for"), rt.config.trustedProxyHops));
    presetHeaders(c, fixedHeaders, ["X-Request-Id", requestId]);
    // A request from the network (not one hosted MCP makes in process, which its own request covers)
    // is one the audit writer's group commit may wait for (server/audit/writer.ts).
    const counted = c.env?.incoming instanceof IncomingMessage;
    if (counted) rt.audit.requestStarted();
    try {
      await next();
    } finally {
      if (counted) rt.audit.requestEnded();
    }
    // Errors were turned into responses by onError below this middleware, so c.res is the final one.
    rt.metrics.observeRequest(c.req.method, routeTemplateOf(c), c.res.status, (performance.now() - started) / 1000);
  };
}

/** What kind of credential a refused request presented: its scheme and prefix, never its content. */
function bearerKind(scheme: string, credential: string): AuthFailureKind {
  if (scheme === "dpop") return "dpop";
  if (credential.startsWith(PERSONAL_KEY_PREFIX)) return "personal_key";
  if (credential.startsWith(AGENT_KEY_PREFIX)) return "agent_key";
  return "token";
}

const tooLarge = (c: Context<ApiEnv>) => problemReply(c, problemBody(ApiError.tooLarge(`Request body exceeds ${MAX_BODY_BYTES / 1024} KiB`), c.get("requestId")));
/** For requests that are already a full `Request` (in process, through `app.request`). */
const limitRequestBody: MiddlewareHandler<ApiEnv> = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge });

/**
 * The body of an IncomingMessage without a Content-Length, read under the cap; null once it passes it
 * (the rest is not read, and the connection is closed after the answer).
 */
function readCapped(incoming: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (value: Buffer | null, error?: unknown) => {
      incoming.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        incoming.pause();
        return done(null);
      }
      chunks.push(chunk);
    };
    const onEnd = () => done(Buffer.concat(chunks, size));
    const onError = (e: unknown) => done(null, e);
    const onClose = () => (incoming.readableEnded ? onEnd() : done(null, new Error("Client connection prematurely closed")));
    incoming.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
    if (incoming.readableEnded) onEnd();
    else if (incoming.destroyed) onClose();
  });
}

/**
 * The 64 KiB request body cap, without turning @hono/node-server's light request into a full undici
 * `Request` (with its AbortController and web stream): Hono's bodyLimit reads `c.req.raw.body`, which
 * does, and that was ≈ 7 % of a PUT's CPU. A declared Content-Length is checked as it stands (Node's
 * parser never reads past it); a chunked body is read from the socket under the cap and left on the
 * IncomingMessage as `rawBody`, which the adapter serves to `c.req.json()` and, if a handler asks for
 * `c.req.raw` (the MCP transport, the Stripe webhook), to the full Request it builds then. GET and
 * HEAD requests never have a body here (the node adapter gives them none, whatever they send).
 */
export const limitBody: MiddlewareHandler<ApiEnv> = (c, next) => {
  // Not an async function: a GET goes on without a promise of its own.
  if (c.req.method === "GET" || c.req.method === "HEAD") return next();
  return limitBodyOf(c, next);
};

async function limitBodyOf(c: Context<ApiEnv>, next: Next): Promise<Response | void> {
  const incoming = c.env?.incoming;
  if (!(incoming instanceof IncomingMessage)) return limitRequestBody(c, next);
  const declared = c.req.header("content-length");
  if (declared !== undefined && c.req.header("transfer-encoding") === undefined) {
    if (Number(declared) > MAX_BODY_BYTES) return tooLarge(c);
    await next();
    return;
  }
  const withRaw = incoming as IncomingMessage & { rawBody?: Buffer };
  if (!(withRaw.rawBody instanceof Buffer)) {
    const body = await readCapped(incoming);
    if (!body) {
      c.header("Connection", "close");
      return tooLarge(c);
    }
    withRaw.rawBody = body;
  }
  await next();
}

/**
 * Route middleware: the caller must present valid credentials — `Bearer <token or key>`, or
 * `DPoP <token>` for a DPoP-bound agent token, whose proof (the `DPoP` header) is checked against
 * this request's method and URL. Not an async function: a credential known from the caches, within
 * its budgets and IP rules, goes on to the meter without a promise of its own (each step below answers
 * at once when it can, a promise only when it must wait); a refusal is thrown, which Hono's compose
 * turns into the response as it does a rejection.
 */
export const requireAuth: MiddlewareHandler<ApiEnv> = (c, next) => {
  const auth = parseAuthorization(c.req.header("authorization") ?? "");
  if (!auth) {
    c.get("rt").metrics.authFailure("missing_credentials");
    throw ApiError.unauthorized("Missing or malformed Authorization header (expected: Bearer <token>, or DPoP <token> for a DPoP-bound token)");
  }
  const ip = c.get("ip");
  const dpop = {
    scheme: auth.scheme,
    request: { proof: c.req.header("dpop"), method: c.req.method, url: c.req.url, ip },
    attestedJkt: c.env?.dpopAttestedJkt,
  };
  c.set("bearer", auth.credential);
  const refused = (e: unknown): never => {
    if (e instanceof ApiError && e.status === 401) c.get("rt").metrics.authFailure(bearerKind(dpop.scheme, auth.credential));
    throw e;
  };
  let authenticated: AtOnce<Principal>;
  try {
    authenticated = authenticateBearer(c.get("rt"), auth.credential, { ip, requestId: c.get("requestId"), dpop });
  } catch (e) {
    return refused(e);
  }
  if (authenticated instanceof Promise) return authenticated.then((principal) => admit(c, principal, next), refused);
  return admit(c, authenticated, next);
};

/** The authenticated caller's budget and IP rules, then the meter and the route. */
function admit(c: Context<ApiEnv>, principal: Principal, next: Next): Promise<void> {
  c.set("principal", principal);
  const guarded = guardAuthenticatedRequest(c);
  return guarded ? guarded.then(() => meterRequest(c, next)) : meterRequest(c, next);
}

export function ctxOf(c: Context<ApiEnv>): Ctx {
  const reason = approvalReasonOf(c.req.header("x-approval-reason"));
  const ctx: Ctx = { rt: c.get("rt"), principal: c.get("principal"), requestId: c.get("requestId"), ip: c.get("ip"), ...(reason ? { approvalReason: reason } : {}) };
  const ctxs = c.get("ctxs");
  if (ctxs) ctxs.push(ctx);
  else c.set("ctxs", [ctx]);
  return ctx;
}

/** X-Approval-Reason: what an agent tells the human who approves; control characters dropped, at most APPROVAL_REASON_MAX. */
function approvalReasonOf(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  if (raw.length > APPROVAL_REASON_MAX) throw ApiError.badRequest(`X-Approval-Reason: at most ${APPROVAL_REASON_MAX} characters`);
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  const clean = raw.replace(/[\u0000-\u001f\u007f]/g, " ").trim();
  return clean || undefined;
}

export function publicCtxOf(c: Context<ApiEnv>): PublicCtx {
  return { rt: c.get("rt"), requestId: c.get("requestId"), ip: c.get("ip") };
}

/** zod failures → 400 naming each field. */
export function validationHook(result: { success: boolean; error?: unknown; target?: string }, c: Context<ApiEnv>) {
  if (result.success) return;
  const fields = fieldErrorsOf((result.error as ZodError).issues, result.target ?? "body");
  const detail = fields.map((f) => `${f.field}: ${f.message}`).join("; ");
  const body = problemBody(ApiError.badRequest(`Invalid ${result.target ?? "input"}: ${detail}`.slice(0, 1000), fields), c.get("requestId"));
  return problemReply(c, body);
}

/**
 * A problem+json response built through the context, so it carries the headers prepared for this
 * request (request id, no-store, quota headers) like any other response.
 */
export function problemReply(c: Context<ApiEnv>, body: Problem, headers: Record<string, string> = {}): Response {
  return c.body(JSON.stringify(body), body.status as 400, { ...headers, "Content-Type": "application/problem+json", "Cache-Control": "no-store" });
}

export function installErrorHandling(app: ApiApp) {
  app.onError(async (err, c) => {
    const requestId = c.get("requestId") ?? randomUUID();
    // A request that failed before producing its effect gives back the single-use approvals it took.
    for (const ctx of c.get("ctxs") ?? []) {
      try {
        await giveBackApprovals(ctx);
      } catch (e) {
        log.warn("approval could not be given back", { requestId, error: e instanceof Error ? e.name : "unknown" });
      }
    }
    if (err instanceof ApiError) return problemReply(c, problemBody(err, requestId), err.opts.headers);
    if (err instanceof HTTPException) {
      // Thrown by Hono itself before validation: malformed JSON, wrong content type.
      const status = err.status;
      const detail =
        status === 400 ? "Malformed JSON body" : status === 415 ? "Content-Type must be application/json" : err.message.slice(0, 200);
      return problemReply(c, problemBody(new ApiError(status, detail), requestId));
    }
    const outage = databaseOutage(err);
    if (outage) {
      log.warn("database unavailable", { requestId, error: err instanceof Error ? err.name : "unknown", code: String((err as { code?: unknown }).code ?? "") });
      return problemReply(c, problemBody(outage, requestId), outage.opts.headers);
    }
    log.error("unhandled error", { requestId, error: err instanceof Error ? err.name : "unknown", where: (err as Error)?.stack?.split("\n")[1]?.trim() });
    return problemReply(c, internalProblem(requestId));
  });
  app.notFound((c) => problemReply(c, problemBody(ApiError.notFound(`No route for ${c.req.method} ${new URL(c.req.url).pathname}`), c.get("requestId"))));
}
