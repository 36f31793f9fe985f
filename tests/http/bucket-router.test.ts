import { PatternRouter } from "hono/router/pattern-router";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiApp } from "../../server/api/app";
import { BucketRouter, keyOf, staticKeyOf } from "../../server/http/bucket-router";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * BucketRouter must answer exactly as the PatternRouter it replaces: the same handlers, in the same
 * order, with the same parameters, for every route of the real API app and for paths no route has.
 */

let server: TestServer;
let routes: { method: string; path: string }[];

beforeAll(async () => {
  server = await startTestServer();
  routes = createApiApp(server.rt).routes.map((r) => ({ method: r.method, path: r.path }));
}, 120_000);

afterAll(async () => {
  await server?.close();
});

/** Request paths a route's pattern may be asked about: parameters filled in, with and without a trailing slash. */
function samplesOf(path: string): string[] {
  const filled = path
    .replace(/:[A-Za-z_]\w*\{[^}]*\}/g, "a/b.c")
    .replace(/:[A-Za-z_]\w*\??/g, "6f1d2c4e-1f4b-4a59-9c59-1f0ad1a8e0b7")
    .replace(/\*$/, "x/y");
  return [filled, `${filled}/`, `${filled}/extra`, filled.replace(/\/[^/]*$/, "")];
}

function both(table: { method: string; path: string }[]) {
  const pattern = new PatternRouter<number>();
  const bucket = new BucketRouter<number>();
  table.forEach((r, i) => {
    pattern.add(r.method, r.path, i);
    bucket.add(r.method, r.path, i);
  });
  return { pattern, bucket };
}

describe("BucketRouter", () => {
  it("keys: a request by its first two segments; a route only when both are plain text", () => {
    expect(keyOf("/v1/vaults/x/secrets/a")).toBe("v1/vaults");
    expect(keyOf("/v1")).toBe("v1/");
    expect(keyOf("/v1/")).toBe("v1/");
    expect(keyOf("/")).toBe("/");
    expect(staticKeyOf("/v1/vaults/:id")).toBe("v1/vaults");
    expect(staticKeyOf("/v1")).toBe("v1/");
    expect(staticKeyOf("*")).toBeNull();
    expect(staticKeyOf("/v1/*")).toBeNull();
    expect(staticKeyOf("/v1/:id")).toBeNull();
    expect(staticKeyOf("/v1/vaults*")).toBeNull();
    expect(staticKeyOf("/v1/vaults?")).toBeNull();
  });

  it("answers as PatternRouter for every route of the API app, every method, and unknown paths", () => {
    expect(routes.length).toBeGreaterThan(100);
    const { pattern, bucket } = both(routes);
    const methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    const paths = new Set(routes.flatMap((r) => samplesOf(r.path)));
    for (const p of ["/", "", "/v1", "/v1/", "/nope", "/v1/nope/x", "/v1//vaults", "/mcp", "/mcp/", "/.well-known/x", "/V1/vaults"]) paths.add(p);
    let compared = 0;
    let matched = 0;
    for (const p of paths) {
      for (const m of methods) {
        const expected = pattern.match(m, p);
        expect(bucket.match(m, p), `${m} ${p}`).toEqual(expected);
        compared++;
        if (expected[0].length > 2) matched++;
      }
    }
    expect(compared).toBeGreaterThan(1000);
    // Most samples reach a handler beyond the app-wide middleware: the comparison is not of empty answers.
    expect(matched).toBeGreaterThan(routes.length / 2);
  });

  it("keeps the order of middleware and handlers across buckets", () => {
    const table = [
      { method: "ALL", path: "*" },
      { method: "GET", path: "/v1/a/:id" },
      { method: "ALL", path: "/v1/*" },
      { method: "GET", path: "/v1/a/x" },
      { method: "GET", path: "/:any/a/x" },
      { method: "GET", path: "/v1/b*" },
      { method: "GET", path: "/v1/a/:id?" },
    ];
    const { pattern, bucket } = both(table);
    for (const p of ["/v1/a/x", "/v1/a", "/v1/bcd", "/v2/a/x", "/v1/b/x"]) expect(bucket.match("GET", p), p).toEqual(pattern.match("GET", p));
    expect(bucket.match("GET", "/v1/a/x")[0].map(([h]) => h)).toEqual([0, 1, 2, 3, 4, 6]);
  });

  it("matches a run of consecutive routes of one method and path once, and keeps every handler's place", () => {
    const table = [
      { method: "ALL", path: "*" },
      { method: "GET", path: "/v1/a/:id" },
      { method: "GET", path: "/v1/a/:id" },
      { method: "POST", path: "/v1/a/:id" },
      { method: "GET", path: "/v1/a/:id" },
      { method: "ALL", path: "/v1/a/:id" },
      { method: "GET", path: "/v1/a/x" },
      { method: "GET", path: "/v1/a/:id" },
      { method: "GET", path: "/v1/b/:p?" },
      { method: "GET", path: "/v1/b/:p?" },
    ];
    const { pattern, bucket } = both(table);
    for (const m of ["GET", "POST", "PUT"]) {
      for (const p of ["/v1/a/x", "/v1/a/y", "/v1/a/y/", "/v1/a", "/v1/b", "/v1/b/q", "/v1/b/q/r"]) expect(bucket.match(m, p), `${m} ${p}`).toEqual(pattern.match(m, p));
    }
    expect(bucket.match("GET", "/v1/a/x")[0].map(([h]) => h)).toEqual([0, 1, 2, 4, 5, 6, 7]);
    expect(bucket.match("GET", "/v1/a/y")[0].map(([h, params]) => [h, params.id])).toEqual([[0, undefined], [1, "y"], [2, "y"], [4, "y"], [5, "y"], [7, "y"]]);
    expect(bucket.match("GET", "/v1/b")[0].map(([h]) => h)).toEqual([0, 8, 9]);
  });

  it("remembers answers per method and path without mixing them up, past its capacity and for long paths", () => {
    const table = [
      { method: "ALL", path: "*" },
      { method: "GET", path: "/v1/vaults/:id/secrets/:path{.+}" },
      { method: "PUT", path: "/v1/vaults/:id/secrets/:path{.+}" },
      { method: "GET", path: "/v1/vaults/:id" },
    ];
    const { pattern, bucket } = both(table);
    const asked: [string, string][] = [];
    // More distinct paths than the memo keeps (4,096), each asked twice: once to fill, once from memory
    // (or, past capacity, after the memo was emptied); a long path is never remembered.
    for (let i = 0; i < 5_000; i++) {
      asked.push(["GET", `/v1/vaults/v${i % 7}/secrets/p/${i}`], ["PUT", `/v1/vaults/v${i % 7}/secrets/p/${i}`], ["GET", `/v1/vaults/v${i}`]);
    }
    asked.push(["GET", `/v1/vaults/v/secrets/${"x".repeat(600)}`], ["GET", `/v1/vaults/v/secrets/${"y".repeat(600)}`]);
    for (const round of [1, 2]) {
      for (const [m, p] of asked) expect(bucket.match(m, p), `round ${round}: ${m} ${p}`).toEqual(pattern.match(m, p));
    }
    // A repeated request gets the answer it got before, parameters included.
    const first = bucket.match("GET", "/v1/vaults/a/secrets/db/url");
    expect(bucket.match("GET", "/v1/vaults/a/secrets/db/url")).toBe(first);
    expect(first[0].map(([h, params]) => [h, params.id, params.path])).toEqual([[0, undefined, undefined], [1, "a", "db/url"]]);
    expect(bucket.match("PUT", "/v1/vaults/a/secrets/db/url")[0].map(([h]) => h)).toEqual([0, 2]);
  });

  it("refuses a route added after the first match, as Hono's own routers do", () => {
    const { bucket } = both([{ method: "GET", path: "/v1/a" }]);
    bucket.match("GET", "/v1/a");
    expect(() => bucket.add("GET", "/v1/b", 1)).toThrow(/after the first match/);
  });
});
