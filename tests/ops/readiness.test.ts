import { readdirSync, renameSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { breakDatabase } from "../helpers/database-outage";
import { client, type TestResponse } from "../helpers/http";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";

/**
 * `/v1/health/ready` tells a load balancer whether to send this instance traffic: 200 with each
 * part's result, or 503 + Retry-After naming the failing part. Every failure here is real (a migration
 * the database lacks, the database taken away, the keystore's key file gone) and each is undone to show
 * the same instance ready again. `/v1/health` stays liveness.
 */
let server: TestServer;
const ready = () => client(server.url).get("/v1/health/ready");

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

/** Results are reused for a second: poll until the expected status. */
async function becomes(probe: () => Promise<TestResponse>, status: number, timeoutMs = 20_000): Promise<TestResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await probe();
    if (res.status === status || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 250));
  }
}

function expectNotReady(res: TestResponse, part: string, detail: RegExp) {
  expect(res.status).toBe(503);
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  expect(res.body).toMatchObject({ title: "Service Unavailable", status: 503, failing: [part] });
  expect(res.body.detail).toMatch(new RegExp(`^Not ready: ${part} \\(`));
  expect(res.body.parts[part]).toMatchObject({ status: "fail", detail: expect.stringMatching(detail) });
  expect(res.text).not.toMatch(/prisma|sqlite|talon_t_|softhsm|pkcs11/i);
}

const newestShipped = () => readdirSync(path.join("prisma", testDialect, "migrations"), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort().at(-1)!;

describe("GET /v1/health/ready", () => {
  it("healthy: 200 with every part ok, public and unmetered", async () => {
    const res = await ready();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: "ready",
      service: "talon",
      parts: {
        database: { status: "ok" },
        migrations: { status: "ok", detail: `${newestShipped()} applied` },
        keystore: { status: "ok", detail: expect.stringMatching(/^self-test passed \d+ s ago$/) },
        audit: { status: "ok", detail: expect.stringMatching(/^\d+ event\(s\) queued/) },
      },
    });
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-ratelimit-requests-used")).toBeNull();
  });

  it("a migration the database lacks: 503 naming migrations, while liveness stays 200; ready again once it is applied", async () => {
    const newest = newestShipped();
    // The newest migration marked rolled back: the database is one behind the code it runs under.
    await server.rt.db.$executeRaw`UPDATE "_prisma_migrations" SET "rolled_back_at" = CURRENT_TIMESTAMP WHERE "migration_name" = ${newest}`;
    try {
      const res = await becomes(ready, 503);
      expectNotReady(res, "migrations", /^1 migration pending: the database is at \d+_\w+, this build needs \d+_\w+$/);
      expect(res.body.parts.migrations.detail).toContain(newest);
      expect(res.body.parts.database.status).toBe("ok");
      expect((await client(server.url).get("/v1/health")).status).toBe(200);
    } finally {
      await server.rt.db.$executeRaw`UPDATE "_prisma_migrations" SET "rolled_back_at" = NULL WHERE "migration_name" = ${newest}`;
    }
    expect((await becomes(ready, 200)).body.parts.migrations.status).toBe("ok");
  });

  it("the database gone: 503 naming the database (migrations not checked), liveness 503 too; ready again once it is back", async () => {
    expect((await ready()).status).toBe(200);
    const restore = await breakDatabase(server);
    try {
      const res = await becomes(ready, 503);
      expectNotReady(res, "database", /database/i);
      expect(res.body.parts.migrations).toEqual({ status: "skipped", detail: "the database is unavailable" });
      expect((await becomes(() => client(server.url).get("/v1/health"), 503)).status).toBe(503);
    } finally {
      await restore();
    }
    expect((await becomes(ready, 200)).status).toBe(200);
  });
});

describe("keystore", () => {
  let local: TestServer;
  beforeAll(async () => {
    // One PKCS#11 token per process: this instance keeps its keys in the local keystore.
    local = await startTestServer({ env: { TALON_KEYSTORE: "local" } });
  });
  afterAll(async () => {
    await local?.close();
  });

  it("the keystore unusable (its key file gone): 503 naming keystore; ready again once it is back", async () => {
    const probe = () => client(local.url).get("/v1/health/ready");
    expect((await probe()).status).toBe(200);
    const keyFile = path.join(local.dataDir, "local-keystore.key");
    renameSync(keyFile, `${keyFile}.away`);
    try {
      expectNotReady(await becomes(probe, 503), "keystore", /keystore/);
    } finally {
      renameSync(`${keyFile}.away`, keyFile);
    }
    expect((await becomes(probe, 200)).body.parts.keystore.status).toBe("ok");
  });
});
