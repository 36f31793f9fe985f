import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { NO_LIMITS, registerAgent } from "../helpers/agents";
import { breakDatabase } from "../helpers/database-outage";
import { client, type TestResponse } from "../helpers/http";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";

/**
 * The secret read's hot path runs on the drivers (server/db/hot.ts), not through Prisma's client. It
 * must follow the connection Prisma has open: after Prisma lets its connection go (a $disconnect, an
 * outage) every credential kind still reads — never a 500 from a handle closed under it — and while
 * the database is really gone each answers the same 503 + Retry-After as the Prisma path. Positive
 * controls: every read answers 200 before, after the reconnect, and after the outage.
 */
const SECRET_VALUE = "hot-path-outage-canary-1c9e";

let server: TestServer;
let reads: Record<string, () => Promise<TestResponse>>;

beforeAll(async () => {
  server = await startTestServer({ env: NO_LIMITS });
  const human = await signUpVerified(server);
  const owner = client(server.url, human.token);
  const vaultId = (await owner.post("/v1/vaults", { name: "hot-outage" })).body.id as string;
  const secretPath = `/v1/vaults/${vaultId}/secrets/db/password`;
  expect((await owner.put(secretPath, { value: SECRET_VALUE })).status).toBe(201);
  const agent = await registerAgent(server.url, human.token);
  expect((await owner.post(`/v1/vaults/${vaultId}/policies`, { principal_type: "agent", principal_id: agent.id, secret_path_pattern: "db/*", permissions: ["read"] })).status).toBe(201);
  const exchanged = await client(server.url).post("/v1/auth/agent-token", { agent_id: agent.id, api_key: agent.apiKey });
  expect(exchanged.status).toBe(200);
  const personalKey = await owner.post("/v1/auth/api-keys", { name: "hot-outage" });
  expect(personalKey.status).toBe(201);
  reads = {
    "user JWT": () => owner.get(secretPath),
    "agent JWT": () => client(server.url, exchanged.body.access_token as string).get(secretPath),
    "ocv_ key": () => client(server.url, agent.apiKey).get(secretPath),
    "1ck_ key": () => client(server.url, personalKey.body.api_key as string).get(secretPath),
  };
});
afterAll(async () => {
  await server?.close();
});

async function expectAllRead(when: string) {
  for (const [kind, read] of Object.entries(reads)) {
    const res = await read();
    expect({ when, kind, status: res.status, text: res.status === 200 ? "" : res.text }).toEqual({ when, kind, status: 200, text: "" });
    expect(res.body.value).toBe(SECRET_VALUE);
  }
}

describe("driver-level read path and the database connection", () => {
  it("reads with every credential kind keep working after Prisma drops and reopens its connection", async () => {
    await expectAllRead("before");
    await server.rt.db.$disconnect();
    await expectAllRead("after a $disconnect");
    if (testDialect === "sqlite") {
      // The reopened connection has the same settings as the first (foreign keys enforced, busy timeout).
      const [fk] = await server.rt.db.$queryRawUnsafe<{ foreign_keys: bigint | number }[]>("PRAGMA foreign_keys");
      expect(Number(fk!.foreign_keys)).toBe(1);
      const [busy] = await server.rt.db.$queryRawUnsafe<{ timeout: bigint | number }[]>("PRAGMA busy_timeout");
      expect(Number(busy!.timeout)).toBe(5000);
    }
  });

  it.runIf(testDialect === "postgres")("reads answer 200 again once the server ended every session (pooled connections re-opened)", async () => {
    const name = new URL(server.databaseUrl).pathname.slice(1);
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
    } finally {
      await admin.end();
    }
    // A request racing the termination may see it (503, never 500); within a few tries all read again.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const statuses = await Promise.all(Object.values(reads).map(async (r) => (await r()).status));
      for (const s of statuses) expect([200, 503]).toContain(s);
      if (statuses.every((s) => s === 200) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await expectAllRead("after the sessions were terminated");
  });

  it("while the database is gone every credential kind answers 503 with Retry-After, and 200 once it is back", async () => {
    await expectAllRead("before the outage");
    const restore = await breakDatabase(server);
    try {
      for (const [kind, read] of Object.entries(reads)) {
        const res = await read();
        expect({ kind, status: res.status }).toEqual({ kind, status: 503 });
        expect(res.headers.get("content-type")).toContain("application/problem+json");
        expect(res.body).toMatchObject({ title: "Service Unavailable", status: 503, detail: expect.stringMatching(/database is unavailable/) });
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect(res.text).not.toMatch(/prisma|sqlite|postgres|talon_t_|57P01|55000|TypeError|not open/i);
        expect(res.text).not.toContain(SECRET_VALUE);
      }
    } finally {
      await restore();
    }
    await expectAllRead("after the outage");
  });
});
