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
  503: "Service Unavailable",
};

export type { FieldError } from "../../lib/contract/field-errors";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly opts: { type?: ProblemType; fields?: FieldError[]; headers?: Record<string, string> } = {},
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
  static unavailable(detail: string) {
    return new ApiError(503, detail);
  }
}

export type Problem = {
  type: ProblemType;
  title: string;
  status: number;
  detail: string;
  fields?: FieldError[];
  request_id?: string;
};

export function problemBody(err: ApiError, requestId?: string): Problem {
  return {
    type: err.opts.type ?? "about:blank",
    title: TITLES[err.status] ?? "Error",
    status: err.status,
    detail: err.detail,
    ...(err.opts.fields?.length ? { fields: err.opts.fields } : {}),
    ...(requestId ? { request_id: requestId } : {}),
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
