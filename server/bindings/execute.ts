import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import {
  type BindingInject,
  EXECUTE_MAX_REDIRECTS,
  EXECUTE_REQUEST_BODY_MAX_BYTES,
  EXECUTE_RESPONSE_BODY_MAX_BYTES,
  EXECUTE_TIMEOUT_MS,
  type ExecuteRequest,
  type ExecuteResponse,
  urlPathProblem,
} from "../../lib/contract/bindings";
import { parseEnvBundle } from "../../lib/sdk/env-bundle";
import { spendApprovals } from "../approvals/gate";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { OutboundRefused, type OutboundResponse, type Resolver, sendOutbound } from "../net/outbound";
import { loadVault } from "../vaults/service";
import { redactorFor, type Redactor } from "./redact";
import { type BindingRow, injectOf, methodsOf } from "./service";
import { useSecretValue } from "./secret-use";

/**
 * `POST /v1/agents/{id}/execute`: Talon makes one HTTP request for the agent with a secret injected,
 * and the agent sees the answer, never the value. Order: the caller is the agent itself → the binding
 * (org-filtered; another org's is 404) → `use` on its secret path (the same access decision as a read:
 * policies, conditions, scopes, vault_ids, deny, approvals) → method, path and headers within the
 * binding → the value (counted like a read) → the request under the outbound rules (DNS pinned,
 * internal addresses only for internal bindings, redirects only within the destination) → redaction of
 * every spelling of every known value → the audit event (destination, method, status, bytes — never the
 * value, the query or the headers), awaited before the answer leaves.
 */
export type ExecuteOptions = { resolver?: Resolver; timeoutMs?: number; maxResponseBytes?: number };

/** Headers a caller may never set: the connection's own, and what would change where or how the request goes. */
const RESERVED_HEADERS = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-authenticate",
  "proxy-connection",
  "te",
  "trailer",
  "upgrade",
  "expect",
  "http2-settings",
  // Talon must read the answer to redact it: no compressed bodies.
  "accept-encoding",
]);
const HOP_BY_HOP_RESPONSE = new Set(["connection", "keep-alive", "transfer-encoding", "proxy-authenticate", "proxy-connection", "te", "trailer", "upgrade", "content-length", "content-encoding"]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function assertSelf(ctx: Ctx, agentId: string): void {
  const p = ctx.principal;
  if (p.kind !== "agent") throw ApiError.forbidden("Only an agent can execute through a binding, as itself (POST /v1/agents/{its own id}/execute)");
  if (p.agentId !== agentId) throw ApiError.forbidden("An agent can execute only as itself: use your own agent id");
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function findBindingFor(ctx: Ctx, ref: string, vaultId: string | undefined): Promise<BindingRow> {
  const orgId = ctx.principal.orgId;
  const p = ctx.principal;
  const boundVaults = p.kind === "agent" && p.vaultIds.length > 0 ? p.vaultIds : null;
  const where = {
    orgId,
    ...(UUID_RE.test(ref) ? { id: ref.toLowerCase() } : { name: ref }),
    ...(vaultId ? { vaultId } : boundVaults ? { vaultId: { in: boundVaults } } : {}),
  };
  const rows = await ctx.rt.db.binding.findMany({ where, take: 2 });
  if (rows.length === 0) throw ApiError.notFound("Binding not found; list the vault's bindings (GET /v1/vaults/{id}/bindings) to find its id or name");
  if (rows.length > 1) throw ApiError.conflict(`Several vaults have a binding named "${ref}"; pass vault_id or the binding's id`);
  return rows[0]!;
}

const underPrefix = (path: string, prefix: string) => prefix === "/" || path === prefix || path.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`);

/** The request path relative to the destination, decoded the way the upstream will read it. */
function pathWithin(b: BindingRow, pathname: string): boolean {
  if (urlPathProblem(pathname) !== null) return false;
  return underPrefix(decodeURIComponent(pathname), decodeURIComponent(b.pathPrefix));
}

type Injection = { header?: [string, string]; query?: [string, string]; secrets: string[]; basicPairs: string[] };

function injectionFor(inject: BindingInject, value: string, secretType: string): Injection {
  // Every value of a bundle is redacted, whichever one is injected.
  const bundle = secretType === "env_bundle" ? parseEnvBundle(value) : null;
  const secrets = [value, ...(bundle?.ok ? Object.values(bundle.vars) : [])];
  switch (inject.kind) {
    case "bearer":
      return { header: ["authorization", `Bearer ${value}`], secrets, basicPairs: [] };
    case "header":
      return { header: [inject.header_name.toLowerCase(), `${inject.prefix}${value}`], secrets, basicPairs: [] };
    case "query":
      return { query: [inject.param_name, value], secrets, basicPairs: [] };
    case "basic": {
      const pair = `${inject.username}:${value}`;
      return { header: ["authorization", `Basic ${Buffer.from(pair, "utf8").toString("base64")}`], secrets, basicPairs: [pair] };
    }
    case "env_field": {
      if (!bundle) throw new ApiError(422, "This binding injects a field of an env_bundle, but its secret is not an env_bundle; ask a human to fix the binding");
      if (!bundle.ok) throw new ApiError(422, `The binding's env_bundle does not parse (${bundle.error})`);
      const field = bundle.vars[inject.field];
      if (field === undefined) throw new ApiError(422, `The binding's env_bundle has no variable ${inject.field}`);
      if (/[\r\n]/.test(field)) throw new ApiError(422, `The env_bundle variable ${inject.field} contains a line break and cannot be sent in a header`);
      if (inject.as === "query") return { query: [inject.param_name!, field], secrets, basicPairs: [] };
      if (inject.as === "header") return { header: [inject.header_name!.toLowerCase(), field], secrets, basicPairs: [] };
      return { header: ["authorization", `Bearer ${field}`], secrets, basicPairs: [] };
    }
  }
}

/** The header or parameter the binding injects, by name, whatever the value (checked before the value is read). */
function injectedNames(inject: BindingInject): { header?: string; query?: string } {
  switch (inject.kind) {
    case "bearer":
    case "basic":
      return { header: "authorization" };
    case "header":
      return { header: inject.header_name.toLowerCase() };
    case "query":
      return { query: inject.param_name };
    case "env_field":
      return inject.as === "query" ? { query: inject.param_name! } : { header: inject.as === "header" ? inject.header_name!.toLowerCase() : "authorization" };
  }
}

function checkCallerInput(inject: BindingInject, input: ExecuteRequest): void {
  const names = injectedNames(inject);
  for (const h of Object.keys(input.headers)) {
    const lower = h.toLowerCase();
    if (RESERVED_HEADERS.has(lower) || lower.startsWith("proxy-")) {
      throw ApiError.badRequest(`Invalid headers: ${h} is set by Talon, not the caller`, [{ field: `headers.${h}`, message: "is set by Talon" }]);
    }
    if (lower === names.header) {
      throw ApiError.badRequest(`Invalid headers: ${h} carries the binding's credential and cannot be set by the caller`, [{ field: `headers.${h}`, message: "carries the injected credential" }]);
    }
  }
  for (const q of Object.keys(input.query)) {
    if (names.query !== undefined && q.toLowerCase() === names.query.toLowerCase()) {
      throw ApiError.badRequest(`Invalid query: ${q} carries the binding's credential and cannot be set by the caller`, [{ field: `query.${q}`, message: "carries the injected credential" }]);
    }
  }
  if (input.body !== undefined) {
    if (Buffer.byteLength(input.body, "utf8") > EXECUTE_REQUEST_BODY_MAX_BYTES) throw ApiError.tooLarge("body exceeds 48 KiB");
    if (input.method === "GET" || input.method === "HEAD") throw ApiError.badRequest(`Invalid body: a ${input.method} request has no body`, [{ field: "body", message: `not allowed with ${input.method}` }]);
  }
}

function originOf(b: BindingRow): string {
  return `${b.scheme}://${b.host}:${b.port}`;
}

function sameDestination(b: BindingRow, u: URL): boolean {
  const port = u.port === "" ? (u.protocol === "https:" ? 443 : 80) : Number(u.port);
  return u.protocol === `${b.scheme}:` && u.hostname === b.host && port === b.port && pathWithin(b, u.pathname);
}

function decodedBody(res: OutboundResponse, cap: number): Buffer {
  const enc = String(res.headers["content-encoding"] ?? "identity").toLowerCase().trim();
  if (enc === "identity" || enc === "") return res.body;
  const opts = { maxOutputLength: cap };
  try {
    if (enc === "gzip" || enc === "x-gzip") return gunzipSync(res.body, opts);
    if (enc === "deflate") return inflateSync(res.body, opts);
    if (enc === "br") return brotliDecompressSync(res.body, opts);
  } catch {
    throw new ApiError(502, `The upstream sent a ${enc}-encoded answer Talon could not decode within ${cap} bytes, so it could not be redacted`);
  }
  throw new ApiError(502, `The upstream sent an answer in an encoding Talon cannot read (${enc.slice(0, 40)}), so it could not be redacted`);
}

/**
 * The body as text when it is UTF-8 without NUL bytes (binary formats have them; text does not), else
 * null (it goes back as base64). A body cut at the cap may end inside a character: that is dropped.
 */
function utf8Text(b: Buffer, truncated: boolean): string | null {
  try {
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(b, { stream: truncated });
    return text.includes("\u0000") ? null : text;
  } catch {
    return null;
  }
}

function redactedHeaders(res: OutboundResponse, redact: Redactor): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(res.headers)) {
    if (v === undefined || HOP_BY_HOP_RESPONSE.has(name)) continue;
    out[redact.header(name)] = redact.header(Array.isArray(v) ? v.join(", ") : v);
  }
  return out;
}

type Outcome = { status: number | null; bytes: number; redirects: number; result: "ok" | "refused" | "timeout" | "network_error" };

/**
 * Errors that mean the request never reached the upstream (no connection, or no TLS session, so no
 * header carried the credential): an approval taken for it is given back. Anything else (a timeout,
 * a reset after connecting) may have reached it, and spends the approval.
 */
const NEVER_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL"]);
function neverSent(e: unknown): boolean {
  if (e instanceof OutboundRefused) return true;
  const code = String((e as NodeJS.ErrnoException | undefined)?.code ?? "");
  return NEVER_SENT.has(code) || code.startsWith("ERR_TLS_") || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code);
}

/** The upstream failure the agent is told about: a category and a code, never the URL or the query. */
function failureOf(e: unknown, timeoutMs: number): { error: ApiError; result: Outcome["result"] } {
  if (e instanceof OutboundRefused) {
    return { error: ApiError.forbidden(`The binding's destination was refused: ${e.message}`), result: "refused" };
  }
  const msg = e instanceof Error ? e.message : "";
  if (/within \d+ ms/.test(msg)) return { error: new ApiError(504, `The upstream did not answer within ${timeoutMs} ms`), result: "timeout" };
  const code = String((e as NodeJS.ErrnoException).code ?? "").replace(/[^A-Z_]/g, "").slice(0, 32);
  return { error: new ApiError(502, `The request to the binding's destination failed${code ? ` (${code})` : ""}`), result: "network_error" };
}

export async function executeBinding(ctx: Ctx, agentId: string, input: ExecuteRequest, opts: ExecuteOptions = {}): Promise<ExecuteResponse> {
  assertSelf(ctx, agentId);
  const binding = await findBindingFor(ctx, input.binding, input.vault_id);
  const vault = await loadVault(ctx, binding.vaultId);
  const inject = injectOf(binding);
  if (!methodsOf(binding).includes(input.method)) {
    throw ApiError.forbidden(`This binding allows ${methodsOf(binding).join(", ")}, not ${input.method}`);
  }
  if (!pathWithin(binding, input.path)) throw ApiError.forbidden(`The path must stay under the binding's path_prefix ${binding.pathPrefix}`);
  checkCallerInput(inject, input);

  // Access (`use`) is decided inside, on the path, before the secret's existence is revealed.
  const secret = await useSecretValue(ctx, vault, binding.secretPath);
  const injection = injectionFor(inject, secret.value, secret.type);
  const redact = redactorFor(injection.secrets, injection.basicPairs);

  const url = new URL(`${originOf(binding)}${input.path}`);
  for (const [k, v] of Object.entries(input.query)) url.searchParams.append(k, v);
  const headers: Record<string, string> = { "user-agent": "Talon-Execute/1", ...lowerKeys(input.headers), "accept-encoding": "identity" };
  if (injection.header) headers[injection.header[0]] = injection.header[1];

  const timeoutMs = opts.timeoutMs ?? EXECUTE_TIMEOUT_MS;
  const cap = opts.maxResponseBytes ?? EXECUTE_RESPONSE_BODY_MAX_BYTES;
  const started = Date.now();
  const outcome: Outcome = { status: null, bytes: 0, redirects: 0, result: "ok" };
  try {
    let method: string = input.method;
    let body: string | undefined = input.body;
    let target = url;
    for (;;) {
      if (injection.query) target.searchParams.set(injection.query[0], injection.query[1]);
      const res = await sendOutbound({
        url: target,
        method,
        headers: body === undefined ? headers : { ...headers, ...(headers["content-type"] ? {} : { "content-type": "text/plain; charset=utf-8" }) },
        body,
        allowPrivate: binding.internal,
        allowHint: "only a binding marked internal by an org owner or admin may reach it",
        resolver: opts.resolver,
        timeoutMs: Math.max(1, timeoutMs - (Date.now() - started)),
        maxResponseBytes: cap,
      });
      // The upstream answered: the credential was used, and an approval taken for it is spent.
      spendApprovals(ctx);
      outcome.status = res.status;
      outcome.bytes = res.body.length;
      const next = REDIRECTS.has(res.status) ? redirectTarget(res, target) : null;
      const nextMethod = res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST") ? "GET" : method;
      // Followed only within the destination (scheme, host, port and prefix), for an allowed method: the credential goes nowhere else.
      if (next && outcome.redirects < EXECUTE_MAX_REDIRECTS && sameDestination(binding, next) && methodsOf(binding).includes(nextMethod as never)) {
        outcome.redirects += 1;
        if (nextMethod !== method) body = undefined;
        method = nextMethod;
        target = next;
        continue;
      }
      const decoded = method === "HEAD" ? Buffer.alloc(0) : decodedBody(res, cap);
      // Redacted as bytes, then returned as text when it is UTF-8, else as base64.
      const raw = redact.bytes(decoded, res.truncated);
      const text = utf8Text(raw, res.truncated);
      return {
        status: res.status,
        status_text: redact.header(res.statusText),
        headers: redactedHeaders(res, redact),
        body: text ?? raw.toString("base64"),
        body_encoding: text === null ? "base64" : "utf8",
        body_truncated: res.truncated,
        redirects_followed: outcome.redirects,
      };
    }
  } catch (e) {
    if (e instanceof ApiError) throw e;
    if (!neverSent(e)) spendApprovals(ctx);
    const f = failureOf(e, timeoutMs);
    outcome.result = f.result;
    throw f.error;
  } finally {
    await ctx.rt.audit.record(ctx, {
      action: "secret.execute",
      resourceType: "binding",
      resourceId: binding.id,
      details: {
        vault_id: binding.vaultId,
        path: binding.secretPath,
        version: secret.version,
        host: binding.host,
        port: binding.port,
        method: input.method,
        status: outcome.status,
        bytes: outcome.bytes,
        redirects: outcome.redirects,
        result: outcome.result,
      },
    });
  }
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

function redirectTarget(res: OutboundResponse, from: URL): URL | null {
  const loc = res.headers.location;
  if (typeof loc !== "string" || loc.length > 4096) return null;
  try {
    return new URL(loc, from);
  } catch {
    return null;
  }
}
