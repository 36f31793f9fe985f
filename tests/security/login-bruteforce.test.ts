import argon2 from "argon2";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { count, hit, pruneCounters, release } from "../../server/abuse/counters";
import { signUpVerified, uniqueEmail } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";
import { clearOfCounterEdges, clearOfWindowEdge } from "../helpers/windows";

/**
 * ASVS 2.2.1: failed sign-ins are limited per account and per IP, and the limit is checked before
 * any password hashing. Low limits here; the defaults (100/h per account, 300/h per IP) are config.
 */
const PER_ACCOUNT = 5;
const PER_IP = 12;

let server: TestServer;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  server = await startTestServer({
    env: {
      TALON_LOGIN_MAX_FAILURES_PER_HOUR: String(PER_ACCOUNT),
      TALON_LOGIN_MAX_FAILURES_PER_IP_PER_HOUR: String(PER_IP),
      TALON_RATE_LIMIT_AUTH_PER_MINUTE: "0",
    },
  });
  api = client(server.url);
});
afterAll(async () => {
  await server?.close();
});
// Each test starts with clean counters (they live in the database, shared by every instance).
beforeEach(async () => {
  await server.rt.db.rateCounter.deleteMany();
  await clearOfCounterEdges();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const login = (email: string, password: string) => api.post("/v1/auth/token", { email, password });

function expectLimited(res: { status: number; headers: Headers; body: { detail: string } }) {
  expect(res.status).toBe(429);
  const retry = Number(res.headers.get("retry-after"));
  expect(Number.isInteger(retry)).toBe(true);
  expect(retry).toBeGreaterThanOrEqual(1);
  expect(retry).toBeLessThanOrEqual(3600);
  expect(res.body.detail).toMatch(/too many failed sign-in attempts/i);
}

describe("failed sign-ins per account", () => {
  it("answers 429 + Retry-After past the limit, without hashing, even for the right password", async () => {
    const acct = await signUpVerified(server);
    const verify = vi.spyOn(argon2, "verify");
    for (let i = 0; i < PER_ACCOUNT; i++) expect((await login(acct.email, "wrong password!")).status).toBe(401);
    expect(verify).toHaveBeenCalledTimes(PER_ACCOUNT);

    expectLimited(await login(acct.email, "wrong password!"));
    expectLimited(await login(acct.email, acct.password));
    // No Argon2 work for refused attempts: the limit is checked first.
    expect(verify).toHaveBeenCalledTimes(PER_ACCOUNT);

    // Positive control: another account from the same IP still signs in.
    const other = await signUpVerified(server);
    expect((await login(other.email, other.password)).status).toBe(200);

    const events = await server.rt.db.auditEvent.findMany({ where: { resourceId: acct.userId, action: "auth.failure" } });
    expect(events.filter((e) => JSON.parse(e.details).reason === "rate_limited")).toHaveLength(2);
    expect(JSON.stringify(events)).not.toContain(acct.password);
  });

  it("counts only failures: successful sign-ins do not use up the budget", async () => {
    const acct = await signUpVerified(server);
    for (let i = 0; i < PER_ACCOUNT + 3; i++) expect((await login(acct.email, acct.password)).status).toBe(200);
    for (let i = 0; i < PER_ACCOUNT - 1; i++) expect((await login(acct.email, "wrong password!")).status).toBe(401);
    expect((await login(acct.email, acct.password)).status).toBe(200);
  });

  it("limits an unknown address exactly like a known one (no enumeration through 429)", async () => {
    const nobody = uniqueEmail("nobody");
    for (let i = 0; i < PER_ACCOUNT; i++) expect((await login(nobody, "wrong password!")).status).toBe(401);
    expectLimited(await login(nobody, "wrong password!"));
  });

  it("opens again when the window has passed", async () => {
    const acct = await signUpVerified(server);
    for (let i = 0; i <= PER_ACCOUNT; i++) await login(acct.email, "wrong password!");
    expectLimited(await login(acct.email, acct.password));
    // Move every counter back one window, as if the hour had gone by.
    await server.rt.db.rateCounter.updateMany({ data: { windowStart: { decrement: 3_600_000n } } });
    expect((await login(acct.email, acct.password)).status).toBe(200);
  });

  it("holds under concurrent guessing: never more than the limit reaches the password check", async () => {
    const acct = await signUpVerified(server);
    const verify = vi.spyOn(argon2, "verify");
    const results = await Promise.all(Array.from({ length: PER_ACCOUNT * 2 }, () => login(acct.email, "wrong password!")));
    expect(results.filter((r) => r.status === 401)).toHaveLength(PER_ACCOUNT);
    expect(results.filter((r) => r.status === 429)).toHaveLength(PER_ACCOUNT);
    expect(verify).toHaveBeenCalledTimes(PER_ACCOUNT);
  });

  it("also guards change-password's current-password check", async () => {
    const acct = await signUpVerified(server);
    const me = client(server.url, acct.token);
    for (let i = 0; i < PER_ACCOUNT; i++) {
      expect((await me.post("/v1/auth/change-password", { current_password: "wrong password!", new_password: "a new long password" })).status).toBe(400);
    }
    expectLimited(await me.post("/v1/auth/change-password", { current_password: acct.password, new_password: "a new long password" }));
  });
});

describe("failed sign-ins per IP", () => {
  it("answers 429 once one address has failed too often across accounts", async () => {
    const acct = await signUpVerified(server);
    // Spread over many addresses so no account limit is reached.
    for (let i = 0; i < PER_IP; i++) expect((await login(uniqueEmail("spray"), "wrong password!")).status).toBe(401);
    const verify = vi.spyOn(argon2, "verify");
    expectLimited(await login(acct.email, acct.password));
    expect(verify).not.toHaveBeenCalled();
  });
});

describe("RateCounter", () => {
  it("forgets counters whose window ended more than a day ago, and keeps current ones", async () => {
    const now = Date.now();
    await server.rt.db.rateCounter.create({ data: { key: "test:stale", windowStart: BigInt(now - 25 * 3_600_000), count: 7 } });
    await hit(server.rt.db, "test:current", 3_600_000, now);
    expect(await pruneCounters(server.rt.db, now)).toBeGreaterThanOrEqual(1);
    expect(await server.rt.db.rateCounter.findUnique({ where: { key: "test:stale" } })).toBeNull();
    expect((await count(server.rt.db, "test:current", 3_600_000, now)).count).toBe(1);
  });

  it("counts every one of many concurrent hits (one atomic upsert each)", async () => {
    const key = `test:${Math.random()}`;
    await clearOfWindowEdge(60_000, 5_000);
    const states = await Promise.all(Array.from({ length: 25 }, () => hit(server.rt.db, key, 60_000)));
    expect(states.map((s) => s.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect((await count(server.rt.db, key, 60_000)).count).toBe(25);
    await release(server.rt.db, key, 60_000);
    expect((await count(server.rt.db, key, 60_000)).count).toBe(24);
  });

  it("restarts in a new window and reports the time left in the current one", async () => {
    const key = `test:${Math.random()}`;
    const t0 = 1_800_000_000_000; // on a minute boundary
    expect(await hit(server.rt.db, key, 60_000, t0 + 15_000)).toEqual({ count: 1, retryAfterSeconds: 45 });
    expect((await hit(server.rt.db, key, 60_000, t0 + 59_000)).count).toBe(2);
    expect(await hit(server.rt.db, key, 60_000, t0 + 60_000)).toEqual({ count: 1, retryAfterSeconds: 60 });
    expect((await count(server.rt.db, key, 60_000, t0 + 120_000)).count).toBe(0);
    // A clock running behind does not reset a newer window's count.
    expect((await hit(server.rt.db, key, 60_000, t0 + 59_000)).count).toBe(2);
  });
});
