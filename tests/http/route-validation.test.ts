import { promiseHooks } from "node:v8";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { describe, expect, it } from "vitest";
import type { ApiEnv } from "../../server/http/env";
import { validationHook } from "../../server/http/pipeline";
import { validateRequestsAtOnce } from "../../server/http/route-validation";

/**
 * Routes' query, path, header and cookie schemas are checked synchronously on the handler's call (or
 * in one middleware before a body), instead of one async `@hono/zod-validator` layer each (issue 10).
 * Each test runs the same routes through an app with the change and one without (the library's own
 * path), and expects the same answers, the same values in `c.req.valid`, and the same OpenAPI document.
 */
const json = <T>(schema: T) => ({ "application/json": { schema } });
const noted: MiddlewareHandler<ApiEnv> = async (c, next) => {
  c.header("X-Route-Middleware", "ran");
  await next();
};

const item = createRoute({
  method: "get",
  path: "/items/{id}/{path{.+}}",
  middleware: [noted],
  request: {
    params: z.object({ id: z.string().regex(/^[a-z]+$/), path: z.string().max(20) }),
    query: z.object({ n: z.coerce.number().int().max(9).optional(), tag: z.array(z.string()).or(z.string()).optional() }),
    headers: z.object({ "X-Share-Token": z.string().max(8).optional() }),
    cookies: z.object({ session: z.string().max(8).optional() }),
  },
  responses: { 200: { description: "ok", content: json(z.object({})) } },
});

const write = createRoute({
  method: "put",
  path: "/items/{id}",
  request: { params: z.object({ id: z.string().regex(/^[a-z]+$/) }), body: { required: true, content: json(z.object({ value: z.string().max(5) }).strict()) } },
  responses: { 201: { description: "ok", content: json(z.object({})) } },
});

const checkedLater = createRoute({
  method: "get",
  path: "/later/{id}",
  request: { params: z.object({ id: z.string().refine(async (id) => id !== "taken", "is taken") }) },
  responses: { 200: { description: "ok", content: json(z.object({})) } },
});

function appOf(atOnce: boolean) {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook as never });
  if (atOnce) validateRequestsAtOnce(app);
  app.openapi(item, (c) => c.json({ param: c.req.valid("param"), query: c.req.valid("query"), header: c.req.valid("header"), cookie: c.req.valid("cookie") } as never, 200));
  app.openapi(write, (c) => c.json({ param: c.req.valid("param"), body: c.req.valid("json") } as never, 201));
  app.openapi(checkedLater, (c) => c.json({ param: c.req.valid("param") } as never, 200));
  return app;
}

const both = { atOnce: appOf(true), library: appOf(false) };

async function answer(app: OpenAPIHono<ApiEnv>, path: string, init?: RequestInit) {
  const res = await app.request(path, init);
  return { status: res.status, type: res.headers.get("content-type"), middleware: res.headers.get("x-route-middleware"), body: await res.json() };
}

const requests: [string, string, RequestInit?][] = [
  ["valid, every part", "/items/abc/a/b?n=3&tag=x&tag=y", { headers: { "x-share-token": "tok", cookie: "session=s1" } }],
  ["a single query value", "/items/abc/a?tag=x"],
  ["a bad path parameter", "/items/ABC/a"],
  ["a bad query and a bad path parameter: the query is named", "/items/ABC/a?n=99"],
  ["a header too long", "/items/abc/a", { headers: { "X-Share-Token": "123456789" } }],
  ["a cookie too long", "/items/abc/a", { headers: { cookie: "session=123456789" } }],
  ["a body route, valid", "/items/abc", { method: "PUT", headers: { "content-type": "application/json" }, body: '{"value":"v"}' }],
  ["a body route, bad parameter and bad body: the parameter is named", "/items/ABC", { method: "PUT", headers: { "content-type": "application/json" }, body: '{"value":"toolong"}' }],
  ["a body route, bad body", "/items/abc", { method: "PUT", headers: { "content-type": "application/json" }, body: '{"value":"v","extra":1}' }],
  ["an async schema, valid", "/later/free"],
  ["an async schema, refused", "/later/taken"],
];

describe("route validation at once", () => {
  it.each(requests)("%s: the same answer as the library's validators", async (_name, path, init) => {
    const mine = await answer(both.atOnce, path, init);
    expect(mine).toEqual(await answer(both.library, path, init));
    if (mine.status === 400) {
      expect(mine.type).toBe("application/problem+json");
      expect(mine.body.detail).toMatch(/^Invalid (query|param|header|cookie|json)/);
    }
  });

  it("hands the handler the parsed values, with the header named as the schema spells it", async () => {
    const got = await answer(both.atOnce, "/items/abc/a/b?n=3&tag=x&tag=y", { headers: { "x-share-token": "tok", cookie: "session=s1" } });
    expect(got).toMatchObject({ status: 200, middleware: "ran" });
    expect(got.body).toEqual({ param: { id: "abc", path: "a/b" }, query: { n: 3, tag: ["x", "y"] }, header: { "X-Share-Token": "tok" }, cookie: { session: "s1" } });
    expect((await answer(both.atOnce, "/items/ABC/a")).body.detail).toMatch(/^Invalid param: id/);
    expect((await answer(both.atOnce, "/later/taken")).body.detail).toBe("Invalid param: id: is taken");
  });

  it("leaves the OpenAPI document as the library writes it", () => {
    const doc = (app: OpenAPIHono<ApiEnv>) => app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } });
    expect(doc(both.atOnce)).toEqual(doc(both.library));
  });

  it("registers a bodyless route as its middleware and one handler, a body route with one check before the body's", () => {
    const handlers = (app: OpenAPIHono<ApiEnv>, method: string, path: string) => app.routes.filter((r) => r.method === method && r.path === path).length;
    expect(handlers(both.atOnce, "GET", "/items/:id/:path{.+}")).toBe(2);
    expect(handlers(both.library, "GET", "/items/:id/:path{.+}")).toBe(6);
    expect(handlers(both.atOnce, "PUT", "/items/:id")).toBe(4); // the check, the media-type gate, the body's validator, the handler
    expect(handlers(both.library, "PUT", "/items/:id")).toBe(4);
  });

  it("makes fewer promises for a valid GET than the library's validators", async () => {
    const count = async (app: OpenAPIHono<ApiEnv>) => {
      await app.request("/items/abc/a");
      let n = 0;
      const stop = promiseHooks.onInit(() => n++);
      try {
        await app.request("/items/abc/a");
      } finally {
        stop();
      }
      return n;
    };
    const [mine, library] = [await count(both.atOnce), await count(both.library)];
    // The library's four validators are ≈ 9 promises each and a compose layer each (2).
    expect(library - mine).toBeGreaterThanOrEqual(30);
  });
});
