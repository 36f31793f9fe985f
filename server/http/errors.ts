import type { FieldError } from "../../lib/contract/field-errors";

/**
 * Typed API errors. Services throw these from anywhere; `problemBody` (with `problemReply` in server/http/pipeline.ts) is the one table that turns
 * them into RFC 7807 bodies. Anything else becomes a generic 500 carrying only the request id.
 */
export type ProblemType = "about:blank" | "resource_limit_exceeded" | "approval_required";

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  410: "Gone",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export type { FieldError } from "../../lib/contract/field-errors";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    /** `extensions`: RFC 7807 extension members beside the standard ones (x402's `accepts` on a 402). */
    readonly opts: { type?: ProblemType; fields?: FieldError[]; headers?: Record<string, string>; extensions?: Record<string, unknown> } = {},
  ) {
    super(detail);
    this.name = "ApiError";
  }
  static badRequest(detail: string, fields?: FieldError[]) {
    return new ApiError(400, detail, { fields });
  }
  static unauthorized(detail = "Invalid credentials") {
    return new ApiError(401, detail, { headers: { "WWW-Authenticate": "Bearer" } });
  }
  static paymentRequired(detail: string) {
    return new ApiError(402, detail);
  }
  static forbidden(detail = "You do not have permission to do this") {
    return new ApiError(403, detail);
  }
  static limit(detail: string) {
    return new ApiError(403, detail, { type: "resource_limit_exceeded" });
  }
  static notFound(detail = "Not found") {
    return new ApiError(404, detail);
  }
  static conflict(detail: string) {
    return new ApiError(409, detail);
  }
  static gone(detail: string) {
    return new ApiError(410, detail);
  }
  static tooLarge(detail: string) {
    return new ApiError(413, detail);
  }
  static unsupportedMediaType(detail: string) {
    return new ApiError(415, detail);
  }
  static tooManyRequests(detail: string, retryAfterSeconds: number) {
    return new ApiError(429, detail, { headers: { "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))) } });
  }
  static unavailable(detail: string, retryAfterSeconds?: number) {
    return new ApiError(503, detail, retryAfterSeconds === undefined ? {} : { headers: { "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))) } });
  }
}

/** How long a client should wait before retrying while the database cannot be used. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

/** Prisma's codes for "could not reach / lost / timed out on the database" (not for bad queries). */
const OUTAGE_PRISMA_CODES = new Set(["P1000", "P1001", "P1002", "P1003", "P1008", "P1010", "P1011", "P1017", "P2024", "P2037"]);
/** What the driver adapters report when the database, not the query, failed. */
const OUTAGE_ADAPTER_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout", // also SQLite's SQLITE_BUSY: locked by another process for longer than busy_timeout
  "TooManyConnections",
  "TlsConnectionError",
  "DatabaseDoesNotExist",
  "DatabaseAccessDenied",
  "AuthenticationFailed",
]);
/** SQLite result codes that mean the file cannot be used right now (locked, unopenable, I/O, full, read-only, damaged). */
const OUTAGE_SQLITE = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY|PERM|NOTADB|CORRUPT|PROTOCOL)/;
/**
 * PostgreSQL SQLSTATEs of a connection that failed or was ended: class 08 (connection exception), 53
 * (insufficient resources), 58 (system/I/O error), 57P0x (shut down, terminated by an administrator,
 * not accepting connections yet).
 */
const OUTAGE_SQLSTATE = /^(08|53|58|57P)/;
const OUTAGE_SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "EAI_AGAIN"]);
/** node-postgres reports a dropped or never-established connection with these messages and no code. */
const PG_CONNECTION_LOST = /Connection terminated unexpectedly|Connection terminated due to connection timeout|timeout exceeded when trying to connect/;

type ErrorShape = {
  code?: unknown;
  errorCode?: unknown;
  message?: unknown;
  severity?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown; code?: unknown; severity?: unknown } } };
};

function isOutage(err: unknown, depth = 0): boolean {
  if (typeof err !== "object" || err === null || depth > 4) return false;
  const e = err as ErrorShape;
  if (OUTAGE_PRISMA_CODES.has(String(e.code)) || OUTAGE_PRISMA_CODES.has(String(e.errorCode))) return true;
  const cause = e.meta?.driverAdapterError?.cause;
  if (cause) {
    if (OUTAGE_ADAPTER_KINDS.has(String(cause.kind))) return true;
    if (OUTAGE_SQLITE.test(String(cause.originalCode ?? ""))) return true;
    // A FATAL or PANIC error ends the server session: the connection, not the query, failed.
    if (cause.kind === "postgres" && (OUTAGE_SQLSTATE.test(String(cause.code ?? "")) || cause.severity === "FATAL" || cause.severity === "PANIC")) return true;
  }
  if (OUTAGE_SOCKET_CODES.has(String(e.code)) || OUTAGE_SQLITE.test(String(e.code ?? ""))) return true;
  // node-postgres's own errors (the hot path, server/db/hot.ts, runs on the driver): same rule as above.
  if (OUTAGE_SQLSTATE.test(String(e.code ?? "")) || e.severity === "FATAL" || e.severity === "PANIC") return true;
  if (typeof e.message === "string" && PG_CONNECTION_LOST.test(e.message)) return true;
  return isOutage(e.cause, depth + 1);
}

/**
 * The 503 for an error that says the database cannot be used right now (unreachable, connection
 * ended, locked past the busy timeout, file unopenable), or null for anything else. Such an error is
 * the instance's state, not a bug in the request: the client is told to come back, not handed a 500.
 */
export function databaseOutage(err: unknown): ApiError | null {
  if (err instanceof ApiError || !isOutage(err)) return null;
  return ApiError.unavailable("The database is unavailable; retry shortly", OUTAGE_RETRY_AFTER_SECONDS);
}

export type Problem = {
  type: ProblemType;
  title: string;
  status: number;
  detail: string;
  fields?: FieldError[];
  request_id?: string;
  [extension: string]: unknown;
};

export function problemBody(err: ApiError, requestId?: string): Problem {
  return {
    type: err.opts.type ?? "about:blank",
    title: TITLES[err.status] ?? "Error",
    status: err.status,
    detail: err.detail,
    ...(err.opts.fields?.length ? { fields: err.opts.fields } : {}),
    ...(requestId ? { request_id: requestId } : {}),
    ...err.opts.extensions,
  };
}

export function internalProblem(requestId: string): Problem {
  return {
    type: "about:blank",
    title: TITLES[500]!,
    status: 500,
    detail: `An internal error occurred. Quote request id ${requestId} when reporting it.`,
    request_id: requestId,
  };
}
