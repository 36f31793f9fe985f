import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { getRequestListener } from "@hono/node-server";
import { ApiError, problemBody } from "./errors";
import type { ApiApp } from "./pipeline";

/** Paths the API app owns (the OpenAPI document at the root among them); everything else belongs to Next.js. */
export function isApiPath(pathname: string): boolean {
  return (
    pathname === "/v1" ||
    pathname.startsWith("/v1/") ||
    pathname === "/mcp" ||
    pathname.startsWith("/mcp/") ||
    pathname.startsWith("/.well-known/") ||
    pathname === "/openapi.json" ||
    pathname === "/openapi.yaml"
  );
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** The path of a raw request target (origin-form, or absolute-form as proxies may send it), query and fragment cut off. */
export function rawPathOf(target: string): string {
  const path = target.split(/[?#]/, 1)[0]!;
  const authority = /^[a-z][a-z0-9+.-]*:\/\/[^/\\]*/i.exec(path);
  return authority ? path.slice(authority[0].length) : path;
}

/**
 * Whether a raw path has a `.` or `..` segment in any spelling the URL parser would resolve: literal or
 * percent-encoded dots in any case, segments split by `/`, `\` or their encodings, tabs and newlines
 * (which the parser drops) ignored. Only these escapes are decoded, so a malformed escape elsewhere
 * cannot throw; a double-encoded dot is not a dot segment to any parser on the way.
 */
export function hasDotSegment(rawPath: string): boolean {
  // The hot path: almost no API path contains a dot at all.
  if (!/\.|%2e/i.test(rawPath)) return false;
  const decoded = rawPath.replace(/[\t\n\r]/g, "").replace(/%(2e|2f|5c)/gi, (escape) => decodeURIComponent(escape));
  return decoded.split(/[/\\]/).some((segment) => segment === "." || segment === "..");
}

function refuseDotSegments(res: ServerResponse) {
  const requestId = randomUUID();
  const detail = "The request path must not contain '.' or '..' segments, in any encoding";
  const body = JSON.stringify(problemBody(ApiError.badRequest(detail, [{ field: "path", message: "must not contain '.' or '..' segments" }]), requestId));
  res.writeHead(400, {
    "Content-Type": "application/problem+json",
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Request-Id": requestId,
    // The request body (if any) is never read.
    Connection: "close",
  });
  res.end(body);
}

/**
 * An origin-form target whose path holds only characters the URL parser keeps as they are (letters,
 * digits, `-._~`, the sub-delimiters, `:@/` and `%`), not starting with `//` (which it would read as a
 * host), up to its query.
 */
const PLAIN_TARGET = /^\/(?!\/)[\w\-.~!$&'()*+,;=:@/%]*(?=\?|$)/;

/**
 * The path of a plain target (above) without dot segments, which is what `new URL(target, base).pathname`
 * would give and its raw path as well; null for any other target. The dispatcher parses a URL only for
 * those (parsing one was ≈ 3 % of a `GET /v1/health`'s CPU).
 */
export function plainPathOf(target: string): string | null {
  const path = PLAIN_TARGET.exec(target)?.[0];
  return path !== undefined && !hasDotSegment(path) ? path : null;
}

/**
 * One Node request listener: API paths straight to the Hono app (the fast path), the rest to `fallback`
 * (Next.js in production; a 404 in tests). Dispatches on the normalised path so `/x/../v1/…` cannot
 * slip past the prefix check. An API request whose raw path has dot segments is refused first: routes
 * only ever see the normalised URL, so `…/secrets/a/../b` would otherwise write `b` unseen by the path check.
 */
export function createDispatcher(app: ApiApp, fallback?: Listener): Listener {
  const api = getRequestListener(app.fetch, { overrideGlobalObjects: true });
  return (req, res) => {
    const target = req.url ?? "/";
    const plain = plainPathOf(target);
    if (plain !== null) return isApiPath(plain) || !fallback ? api(req, res) : fallback(req, res);
    let pathname: string;
    try {
      pathname = new URL(target, "http://localhost").pathname;
    } catch {
      res.writeHead(400).end();
      return;
    }
    const raw = rawPathOf(target);
    if (hasDotSegment(raw) && (isApiPath(pathname) || isApiPath(raw) || !fallback)) return refuseDotSegments(res);
    if (isApiPath(pathname) || !fallback) return api(req, res);
    return fallback(req, res);
  };
}
