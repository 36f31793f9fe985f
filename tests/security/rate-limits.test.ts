import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenBucketLimiter } from "../../server/http/rate-limit";
import { signUpVerified } from "../helpers/accounts";
import { client, type TestResponse } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Abuse limits, crossed for real: per-IP (before authentication, health included), the stricter
 * per-IP budget of the public auth endpoints, and per-principal (after authentication). Each 429 is
 * paired with a positive control — another IP or principal still gets through — and with recovery
 * once Retry-After has passed. Limits are per minute, so small configured limits refill in seconds.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("TokenBucketLimiter", () => {
  it("allows a minute's budget at once, then one request per 60/limit seconds, and says how long to wait", () => {
    let now = 1_000_000;
    const l = new TokenBucketLimiter(6, 100, () => now);
    for (let i = 0; i < 6; i++) expect(l.take("a")).toBe(0);
    expect(l.take("a")).toBeCloseTo(10, 5);
    expect(l.take("b")).toBe(0);
    now += 5_000;
    expect(l.take("a")).toBeCloseTo(5, 5);
    now += 5_000;
    expect(l.take("a")).toBe(0);
    expect(l.take("a")).toBeCloseTo(10, 5);
  });

  it("0 disables the limit", () => {
    const l = new TokenBucketLimiter(0);
    for (let i = 0; i < 1000; i++) expect(l.take("x")).toBe(0);
    expect(l.size).toBe(0);
  });

  it("keeps memory bounded: idle buckets are swept and the key count never exceeds the cap", () => {
    let now = 0;
    const l = new TokenBucketLimiter(10, 1000, () => now);
    for (let i = 0; i < 5000; i++) l.take(`ip-${i}`);
    expect(l.size).toBeLessThanOrEqual(1000);
    now += 61_000;
    l.take("fresh");
    expect(l.size).toBe(1);
  });
});

describe("rate limits over HTTP", () => {
  let server: TestServer;
  let api: ReturnType<typeof client>;
  let alice: ReturnType<typeof client>;
  let bob: ReturnType<typeof client>;
  const from = (ip: string) => ({ "X-Forwarded-For": ip });

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        TALON_TRUSTED_PROXY_HOPS: "1",
        TALON_RATE_LIMIT_IP_PER_MINUTE: "60",
        TALON_RATE_LIMIT_PRINCIPAL_PER_MINUTE: "60",
        TALON_RATE_LIMIT_AUTH_PER_MINUTE: "20",
      },
    });
    api = client(server.url);
    alice = client(server.url, (await signUpVerified(server)).token);
    bob = client(server.url, (await signUpVerified(server)).token);
  });
  afterAll(async () => {
    await server?.close();
  });

  /** Sends until the first 429 (at most `max` requests); returns how many got through and the 429. */
  async function exhaust(send: (i: number) => Promise<TestResponse>, max: number) {
    const started = Date.now();
    for (let i = 0; i < max; i++) {
      const res = await send(i);
      if (res.status === 429) return { passed: i, limited: res, seconds: (Date.now() - started) / 1000 };
      expect(res.status).not.toBe(500);
    }
    throw new Error(`no 429 within ${max} requests`);
  }

  function expectProblem429(res: TestResponse, detail: RegExp) {
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(res.body).toMatchObject({ type: "about:blank", title: "Too Many Requests", status: 429 });
    expect(res.body.detail).toMatch(detail);
    const retry = Number(res.headers.get("retry-after"));
    expect(Number.isInteger(retry)).toBe(true);
    expect(retry).toBeGreaterThanOrEqual(1);
    return retry;
  }

  it("per IP: the 61st request from one address within a minute is 429 (health included); another address is unaffected; it recovers", async () => {
    const { passed, limited, seconds } = await exhaust(() => api.get("/v1/health", from("10.0.0.1")), 120);
    // 60 in the bucket, plus at most the one per second that refilled while we were sending.
    expect(passed).toBeGreaterThanOrEqual(60);
    expect(passed).toBeLessThanOrEqual(60 + Math.ceil(seconds) + 1);
    const retry = expectProblem429(limited, /from your IP address/);
    expect(retry).toBeLessThanOrEqual(2);
    expect((await api.get("/v1/health", from("10.0.0.2"))).status).toBe(200);
    await sleep(retry * 1000 + 100);
    expect((await api.get("/v1/health", from("10.0.0.1"))).status).toBe(200);
  });

  it("per IP: IPv6 clients share one bucket per /64", async () => {
    await exhaust(() => api.get("/v1/health", from("2001:db8:1:2::1")), 120);
    expect((await api.get("/v1/health", from("2001:db8:1:2::ffff"))).status).toBe(429);
    expect((await api.get("/v1/health", from("2001:db8:1:3::1"))).status).toBe(200);
  });

  it("public auth endpoints: a stricter per-IP budget (20/min here) while other routes from that IP still work", async () => {
    const { passed, limited, seconds } = await exhaust(() => api.post("/v1/auth/token", "{not json", from("10.0.1.1")), 60);
    expect(passed).toBeGreaterThanOrEqual(20);
    expect(passed).toBeLessThanOrEqual(20 + Math.ceil(seconds / 3) + 1);
    const retry = expectProblem429(limited, /authentication endpoints/);
    expect(retry).toBeLessThanOrEqual(3);
    expect((await api.post("/v1/auth/signup", {}, from("10.0.1.1"))).status).toBe(429);
    expect((await api.post("/v1/org/invitations/accept", {}, from("10.0.1.1"))).status).toBe(429);
    expect((await api.get("/v1/health", from("10.0.1.1"))).status).toBe(200);
    expect((await api.post("/v1/auth/token", "{not json", from("10.0.1.2"))).status).toBe(400);
    await sleep(retry * 1000 + 100);
    expect((await api.post("/v1/auth/token", "{not json", from("10.0.1.1"))).status).toBe(400);
  });

  it("per principal: one user's 61st request in a minute is 429 from any address, while another user is served; it recovers", async () => {
    const { passed, limited, seconds } = await exhaust((i) => alice.get("/v1/auth/me", from(`10.0.2.${i % 250}`)), 120);
    expect(passed).toBeGreaterThanOrEqual(60);
    expect(passed).toBeLessThanOrEqual(60 + Math.ceil(seconds) + 1);
    const retry = expectProblem429(limited, /credential/);
    expect((await alice.get("/v1/auth/me", from("10.0.3.1"))).status).toBe(429);
    expect((await bob.get("/v1/auth/me", from("10.0.2.1"))).status).toBe(200);
    await sleep(retry * 1000 + 100);
    expect((await alice.get("/v1/auth/me", from("10.0.3.2"))).status).toBe(200);
  });
});
