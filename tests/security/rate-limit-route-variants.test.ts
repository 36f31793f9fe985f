import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiApp } from "../../server/api/app";
import { AUTH_ROUTES } from "../../server/http/rate-limit";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * The per-IP auth budget belongs to a route, not to a spelling of its path. A trailing slash, a
 * percent-encoded letter or another case either reaches the same handler and draws on the same
 * budget, or reaches no handler at all (404). A share link is charged by every method, HEAD included.
 * The positive controls: other routes from an exhausted address still work and never drain the budget.
 */
const AUTH_PER_MINUTE = 10;
/** Sends the path exactly as written: fetch and URL would normalise some of these spellings. */
function raw(base: string, method: string, rawPath: string, ip: string, body?: string): Promise<number> {
  const { hostname, port } = new URL(base);
  const headers: Record<string, string> = { "X-Forwarded-For": ip, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) };
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path: rawPath, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

let server: TestServer;
let nextIp = 1;
const freshIp = () => `10.9.${Math.floor(nextIp / 250)}.${(nextIp++ % 250) + 1}`;
/** A token request that reaches the handler and fails validation: cheap, and changes nothing. */
const tokenAttempt = (p: string, ip: string) => raw(server.url, "POST", p, ip, "{not json");

beforeAll(async () => {
  server = await startTestServer({
    env: { TALON_TRUSTED_PROXY_HOPS: "1", TALON_RATE_LIMIT_AUTH_PER_MINUTE: String(AUTH_PER_MINUTE) },
  });
});
afterAll(async () => {
  await server?.close();
});

/** Sends until the first 429 (at most `max`); how many got through, and how long it took. */
async function exhaust(send: (i: number) => Promise<number>, max = AUTH_PER_MINUTE * 3) {
  const started = Date.now();
  const statuses: number[] = [];
  for (let i = 0; i < max; i++) {
    const status = await send(i);
    if (status === 429) return { passed: i, statuses, seconds: (Date.now() - started) / 1000 };
    statuses.push(status);
  }
  throw new Error(`no 429 within ${max} requests (statuses: ${statuses.join(",")})`);
}

/** The bucket refills one token per 60/AUTH_PER_MINUTE seconds while we send. */
function expectOneBudget(r: { passed: number; seconds: number }) {
  expect(r.passed).toBeGreaterThanOrEqual(AUTH_PER_MINUTE);
  expect(r.passed).toBeLessThanOrEqual(AUTH_PER_MINUTE + Math.ceil((r.seconds * AUTH_PER_MINUTE) / 60) + 1);
}

const TOKEN_SPELLINGS = ["/v1/auth/token/", "/v1/auth/%74oken", "/v1/auth/%74oken/", "/v1/auth/toke%6e", "/v1/%61uth/token", "/v1/auth/token?x=1"];
const CASE_SPELLINGS = ["/V1/Auth/Token", "/v1/AUTH/token", "/v1/auth/Token/"];

describe("auth budget: matched on the route, not the raw path", () => {
  it("every route the budget names is a POST route the app serves (a renamed route must not drop out)", () => {
    const served = new Set(createApiApp(server.rt).routes.filter((r) => r.method === "POST").map((r) => r.path));
    expect([...AUTH_ROUTES].filter((p) => !served.has(p))).toEqual([]);
    expect(AUTH_ROUTES.size).toBeGreaterThan(5);
  });

  it("control: the canonical path allows the budget, then 429", async () => {
    const ip = freshIp();
    const r = await exhaust(() => tokenAttempt("/v1/auth/token", ip));
    expectOneBudget(r);
    expect(new Set(r.statuses)).toEqual(new Set([400]));
  });

  it.each(TOKEN_SPELLINGS)("%s reaches the token route and draws on its budget, or is refused with 404", async (spelling) => {
    const ip = freshIp();
    const first = await tokenAttempt(spelling, ip);
    if (first === 404) {
      // Refused before any handler: the budget of the real route is untouched.
      for (let i = 0; i < AUTH_PER_MINUTE * 2; i++) expect(await tokenAttempt(spelling, ip)).toBe(404);
      expect(await tokenAttempt("/v1/auth/token", ip)).toBe(400);
      return;
    }
    expect(first).toBe(400);
    const r = await exhaust(() => tokenAttempt(spelling, ip));
    expectOneBudget({ passed: r.passed + 1, seconds: r.seconds });
    // The spelling used up the budget of the real route, and the other way round.
    expect(await tokenAttempt("/v1/auth/token", ip)).toBe(429);
    const other = freshIp();
    await exhaust(() => tokenAttempt("/v1/auth/token", other));
    expect(await tokenAttempt(spelling, other)).toBe(429);
  });

  it.each(CASE_SPELLINGS)("%s (another case) is refused with 404 and never reaches a handler", async (spelling) => {
    const ip = freshIp();
    for (let i = 0; i < AUTH_PER_MINUTE * 2; i++) expect(await tokenAttempt(spelling, ip)).toBe(404);
    expect(await tokenAttempt("/v1/auth/token", ip)).toBe(400);
  });

  it("spellings sent in turn share one budget", async () => {
    const ip = freshIp();
    const all = ["/v1/auth/token", ...TOKEN_SPELLINGS];
    const r = await exhaust((i) => tokenAttempt(all[i % all.length]!, ip));
    expect(r.statuses.every((s) => s === 400 || s === 404)).toBe(true);
    const charged = r.statuses.filter((s) => s === 400).length;
    expectOneBudget({ passed: charged, seconds: r.seconds });
  });

  it("positive control: other routes from an exhausted address still answer, and never drain the budget", async () => {
    const ip = freshIp();
    await exhaust(() => tokenAttempt("/v1/auth/token/", ip));
    expect(await raw(server.url, "GET", "/v1/health", ip)).toBe(200);
    expect(await raw(server.url, "GET", "/v1/vaults", ip)).toBe(401);

    const other = freshIp();
    for (let i = 0; i < AUTH_PER_MINUTE * 3; i++) {
      expect(await raw(server.url, "GET", "/v1/health/", other)).toBe(200);
      expect(await raw(server.url, "POST", "/v1/vaults/", other, "{}")).toBe(401);
    }
    expectOneBudget(await exhaust(() => tokenAttempt("/v1/auth/token", other)));
  });
});

describe("share links: every method draws on the share/auth budget", () => {
  const link = () => `/v1/share/${randomUUID()}`;

  it("HEAD requests use up the budget, then GET of any link and the auth routes are 429 for that address", async () => {
    const ip = freshIp();
    const r = await exhaust(() => raw(server.url, "HEAD", link(), ip));
    expectOneBudget(r);
    expect(r.statuses.every((s) => s !== 200)).toBe(true);
    expect(await raw(server.url, "GET", link(), ip)).toBe(429);
    expect(await raw(server.url, "GET", `${link()}/`, ip)).toBe(429);
    expect(await tokenAttempt("/v1/auth/token", ip)).toBe(429);
    // Positive control: another address reads links as before.
    expect(await raw(server.url, "GET", link(), freshIp())).not.toBe(429);
  });

  it("GET and DELETE on a link, trailing slash or not, are charged too", async () => {
    const ip = freshIp();
    const methods = ["GET", "DELETE", "HEAD"] as const;
    const r = await exhaust((i) => raw(server.url, methods[i % 3]!, i % 2 ? `${link()}/` : link(), ip));
    expectOneBudget(r);
    expect(await raw(server.url, "HEAD", link(), ip)).toBe(429);
  });
});
