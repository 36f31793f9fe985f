import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config";
import { outboxTokenFor } from "../helpers/accounts";
import { type ApiProcess, startApiProcess } from "../helpers/api-process";
import { client } from "../helpers/http";
import { createPostgresDatabase, testDialect } from "../helpers/server";
import { clearOfWindowEdge } from "../helpers/windows";

/**
 * Two Talon processes on one database: with TALON_RATE_LIMIT_STORE=postgres or redis the per-IP
 * budget is one budget across both (12 requests split over the two against a limit of 10: exactly 2
 * refused, sent concurrently); with the default memory store each instance has its own (the positive
 * control: none refused). A session started on one instance works on the other. Each case uses its
 * own client address (X-Forwarded-For behind one trusted hop), so runs never share a Redis counter.
 */
const LIMIT = 10;
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function twoInstances(store: Record<string, string>): Promise<[ApiProcess, ApiProcess, string]> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "talon-two-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const env: Record<string, string> = {
    TALON_DATA_DIR: dataDir,
    TALON_KEYSTORE: "local",
    // The tokens' issuer: identical on every instance, as in production (else each refuses the other's tokens).
    TALON_PUBLIC_URL: "http://talon.test",
    TALON_TRUSTED_PROXY_HOPS: "1",
    TALON_RATE_LIMIT_IP_PER_MINUTE: String(LIMIT),
    TALON_RATE_LIMIT_AUTH_PER_MINUTE: "1000",
    ...store,
  };
  if (testDialect === "postgres") {
    const db = await createPostgresDatabase();
    cleanups.push(() => db.drop());
    env.DATABASE_URL = db.url;
  }
  // One after the other: the first creates the key and migrates, the second finds them.
  const a = await startApiProcess(env);
  cleanups.push(() => a.stop());
  const b = await startApiProcess(env, { migrate: false });
  cleanups.push(() => b.stop());
  return [a, b, dataDir];
}

const randomIp = () => `10.${[1, 2, 3].map(() => Math.floor(Math.random() * 250) + 1).join(".")}`;

/** 12 concurrent requests alternating between the instances from one client address; the statuses. */
async function burst(a: ApiProcess, b: ApiProcess): Promise<number[]> {
  await clearOfWindowEdge(60_000, 10_000);
  const ip = randomIp();
  const rs = await Promise.all(Array.from({ length: LIMIT + 2 }, (_, i) => fetch(`${(i % 2 ? a : b).url}/v1/health`, { headers: { "X-Forwarded-For": ip } })));
  return rs.map((r) => r.status);
}

describe("rate limits across two instances", () => {
  it("memory (default): each instance has its own budget (control)", async () => {
    const [a, b] = await twoInstances({});
    const statuses = await burst(a, b);
    expect(statuses.filter((s) => s === 429)).toHaveLength(0);
    // Positive control for the budget itself: one instance alone refuses past the limit.
    const ip = randomIp();
    const alone = [];
    for (let i = 0; i < LIMIT + 2; i++) alone.push((await fetch(`${a.url}/v1/health`, { headers: { "X-Forwarded-For": ip } })).status);
    expect(alone.filter((s) => s === 429)).toHaveLength(2);
  }, 180_000);

  it("redis: one budget across both instances; sessions work on either", async () => {
    const [a, b, dataDir] = await twoInstances({ TALON_RATE_LIMIT_STORE: "redis", TALON_REDIS_URL: "redis://127.0.0.1:6379" });
    const statuses = await burst(a, b);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2);
    expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT);

    const email = `two-${Date.now()}@example.test`;
    const ip = { "X-Forwarded-For": randomIp() };
    expect((await client(a.url).post("/v1/auth/signup", { email, password: "correct horse battery staple" }, ip)).status).toBe(201);
    const verified = await client(a.url).post("/v1/auth/verify-email", { token: outboxTokenFor({ dataDir }, email) }, ip);
    expect(verified.status).toBe(200);
    const me = await client(b.url, verified.body.access_token as string).get("/v1/auth/me", ip);
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(email);
  }, 180_000);

  it.runIf(testDialect === "postgres")("postgres: one budget across both instances (RateCounter, one upsert per hit)", async () => {
    const [a, b] = await twoInstances({ TALON_RATE_LIMIT_STORE: "postgres" });
    const statuses = await burst(a, b);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2);
    expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT);
  }, 180_000);

  it("config names what is missing for a shared store", () => {
    expect(() => loadConfig({ TALON_RATE_LIMIT_STORE: "redis" })).toThrow(/TALON_RATE_LIMIT_STORE=redis needs TALON_REDIS_URL/);
    expect(() => loadConfig({ TALON_RATE_LIMIT_STORE: "postgres", DATABASE_URL: "file:/tmp/x.db" })).toThrow(/TALON_RATE_LIMIT_STORE=postgres needs a PostgreSQL DATABASE_URL/);
    expect(() => loadConfig({ TALON_RATE_LIMIT_STORE: "memcached" })).toThrow(/TALON_RATE_LIMIT_STORE must be memory, postgres or redis/);
    expect(() => loadConfig({ TALON_RATE_LIMIT_STORE: "redis", TALON_REDIS_URL: "http://127.0.0.1" })).toThrow(/TALON_REDIS_URL/);
    expect(loadConfig({ TALON_RATE_LIMIT_STORE: "redis", TALON_REDIS_URL: "redis://127.0.0.1:6379" }).rateLimitStore).toEqual({ kind: "redis", url: "redis://127.0.0.1:6379" });
    expect(loadConfig({}).rateLimitStore).toEqual({ kind: "memory" });
  });
});
