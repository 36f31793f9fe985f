import type { Context, Handler, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { z } from "zod";
import { type AtOnce, asPromise, thenAtOnce } from "../../lib/at-once";
import type { ApiApp, ApiEnv } from "./env";
import { validationHook } from "./pipeline";

type Target = "query" | "param" | "header" | "cookie";
/** One part of the request a route declares a schema for; `keys` maps a header's lower-case name to the schema's. */
type Check = { target: Target; schema: z.ZodType; keys?: Map<string, string> };

/**
 * Routes' query, path, header and cookie schemas checked synchronously, in one step.
 *
 * `@hono/zod-openapi` puts each declared part behind its own `@hono/zod-validator` middleware, which
 * always parses with `safeParseAsync` and awaits the hook and the next layer: about nine promises and
 * a layer of Hono's compose (two more) for a route's path parameters alone, on every request, though
 * every schema of the contract is synchronous. This wraps the app's `openapi` so that a route without a
 * body checks those parts on its handler's own call, and a route with one in a single synchronous
 * middleware before its body's validator (the order stays: route middleware, query, path, header,
 * cookie, body). Each part is read as `hono/validator` reads it, parsed with the same schema, refused
 * by the same hook (`validationHook`: the same RFC 7807 400), and handed to `c.req.valid` the same way;
 * a schema that turns out to need `safeParseAsync` is parsed with it. The OpenAPI document is
 * unchanged: the route is registered as declared. A route with its own hook keeps the library's path.
 */
export function validateRequestsAtOnce(app: ApiApp): void {
  const register = app.openapi;
  app.openapi = ((config: Parameters<ApiApp["openapi"]>[0], handler: Handler<ApiEnv>, hook?: unknown) => {
    const { middleware, hide, ...route } = config;
    const checks = route.request ? checksOf(route.request) : null;
    if (hook !== undefined || !checks || checks.length === 0) return register(config, handler as never, hook as never);
    if (!hide) app.openAPIRegistry.registerPath(route);
    const { query: _query, params: _params, headers: _headers, cookies: _cookies, ...rest } = route.request!;
    const before = middleware === undefined ? [] : Array.isArray(middleware) ? middleware : [middleware];
    const registered = { ...route, request: rest, hide: true };
    if (rest.body?.content) {
      const validate: MiddlewareHandler<ApiEnv> = (c, next) =>
        asPromise(thenAtOnce(validated(c, checks), (refused): AtOnce<Response | void> => refused ?? next()));
      return register({ ...registered, middleware: [...before, validate] } as never, handler as never);
    }
    const checked: Handler<ApiEnv> = (c, next) => thenAtOnce(validated(c, checks), (refused) => refused ?? (handler(c, next) as AtOnce<Response>));
    return register({ ...registered, middleware: before } as never, checked as never);
  }) as ApiApp["openapi"];
}

type Parts = { query?: unknown; params?: unknown; headers?: unknown; cookies?: unknown };

/** The parts in `@hono/zod-openapi`'s order; null when one is not a single zod schema (left to the library). */
function checksOf(request: Parts): Check[] | null {
  const checks: Check[] = [];
  for (const [target, schema] of [["query", request.query], ["param", request.params], ["header", request.headers], ["cookie", request.cookies]] as const) {
    if (schema === undefined) continue;
    if (!(schema instanceof z.ZodType)) return null;
    checks.push({ target, schema, ...(target === "header" ? { keys: headerKeys(schema) } : {}) });
  }
  return checks;
}

/** As `@hono/zod-validator`: the schema's own spelling of each header name it declares. */
function headerKeys(schema: z.ZodType): Map<string, string> {
  const object = schema instanceof z.ZodPipe ? schema.in : schema;
  const shape = object instanceof z.ZodObject ? (object.shape as Record<string, unknown>) : {};
  return new Map(Object.keys(shape).map((key) => [key.toLowerCase(), key]));
}

/** What `hono/validator` gives the schema for a target. */
function valueOf(c: Context<ApiEnv>, check: Check): unknown {
  switch (check.target) {
    case "query":
      return Object.fromEntries(Object.entries(c.req.queries()).map(([k, v]) => (v.length === 1 ? [k, v[0]] : [k, v])));
    case "param":
      return c.req.param();
    case "header": {
      const headers = Object.entries(c.req.header());
      return Object.fromEntries(headers.map(([k, v]) => [check.keys?.get(k) ?? k, v]));
    }
    case "cookie":
      return getCookie(c);
  }
}

/**
 * undefined once every part from `from` on is valid and handed to `c.req.valid`; otherwise the 400.
 * A promise only from a part whose schema turned out to be async; the parts after it are checked
 * when it settles.
 */
function validated(c: Context<ApiEnv>, checks: Check[], from = 0): AtOnce<Response | undefined> {
  for (let i = from; i < checks.length; i++) {
    const check = checks[i]!;
    const result = parsed(check.schema, valueOf(c, check));
    if (result instanceof Promise) return result.then((r) => settle(c, check.target, r) ?? validated(c, checks, i + 1));
    const refused = settle(c, check.target, result);
    if (refused) return refused;
  }
  return undefined;
}

/** `safeParse`, or `safeParseAsync` for a schema with an async refinement or transform (zod says so by throwing). */
function parsed(schema: z.ZodType, value: unknown): AtOnce<z.ZodSafeParseResult<unknown>> {
  try {
    return schema.safeParse(value);
  } catch (e) {
    if (e instanceof z.core.$ZodAsyncError) return schema.safeParseAsync(value);
    throw e;
  }
}

function settle(c: Context<ApiEnv>, target: Target, result: z.ZodSafeParseResult<unknown>): Response | undefined {
  if (!result.success) return validationHook({ success: false, error: result.error, target }, c) ?? c.json(result, 400);
  c.req.addValidatedData(target, result.data as object);
  return undefined;
}
