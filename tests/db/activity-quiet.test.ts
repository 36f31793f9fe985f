import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hotSql } from "../../server/db/hot";
import { invalidationOf } from "../../server/db/invalidation";
import { recordActivity } from "../../server/identity/activity";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { statementsDuring } from "../helpers/pg-statements";
import { NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";
import { waitFor } from "../helpers/webhook-receiver";

/**
 * The advisory activity columns (Agent.lastActiveAt, ApiKey.lastUsedAt; server/identity/activity.ts)
 * are written without emptying the caches of principal state and policies: not on this instance (driver
 * statements, which watchWrites does not see) and, on PostgreSQL, not on any other (the update triggers
 * of migration 20261205120000_cache_activity_quiet skip them). Every other change still invalidates;
 * tests/db/auth-cache-revocation.test.ts covers revocation with the caches warm, on both sides.
 */
let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let human: ReturnType<typeof client>;

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  owner = await signUpVerified(server);
  human = client(server.url, owner.token);
});
afterAll(async () => {
  await server?.close();
});

async function newAgent() {
  const created = await human.post("/v1/agents", { name: `activity-${randomUUID().slice(0, 8)}` });
  expect(created.status).toBe(201);
  return { id: created.body.agent.id as string, apiKey: created.body.api_key as string };
}

/**
 * The cache generation once it has held still for 250 ms: on PostgreSQL, notifications of earlier
 * changes (an agent or key just created) reach the instance's listener asynchronously.
 */
async function settledStamp(): Promise<number | null> {
  const inv = invalidationOf(server.rt.db)!;
  for (;;) {
    const s = inv.stamp();
    await new Promise((r) => setTimeout(r, 250));
    if (inv.stamp() === s) return s;
  }
}

const lastActiveAt = async (id: string) => (await server.rt.db.agent.findUniqueOrThrow({ where: { id } })).lastActiveAt;

describe(`activity writes (${testDialect})`, () => {
  it("an agent's first use records its activity and leaves this instance's caches warm", async () => {
    const agent = await newAgent();
    const before = await settledStamp();
    expect(before).not.toBeNull();
    expect(await lastActiveAt(agent.id)).toBeNull();
    // The token exchange awaits its activity write.
    const exchanged = await client(server.url).post("/v1/auth/agent-token", { agent_id: agent.id, api_key: agent.apiKey });
    expect(exchanged.status).toBe(200);
    expect(await lastActiveAt(agent.id)).toBeInstanceOf(Date);
    // An ocv_ key used directly records activity without waiting for it; it is at most once a minute.
    const direct = client(server.url, agent.apiKey);
    expect((await direct.get("/v1/agents/me")).status).toBe(200);
    expect(await settledStamp()).toBe(before);
    // A change that matters still invalidates.
    expect((await human.patch(`/v1/agents/${agent.id}`, { description: "changed" })).status).toBe(200);
    expect(invalidationOf(server.rt.db)!.stamp()).not.toBe(before);
  });

  it("writes at most once a minute per row, whatever the row it was given says", async () => {
    const agent = await newAgent();
    const db = server.rt.db;
    const written = await statementsDuring(async () => recordActivity(db, "agent", agent.id, null));
    const first = await lastActiveAt(agent.id);
    expect(first).toBeInstanceOf(Date);
    expect(Date.now() - first!.getTime()).toBeLessThan(30_000);
    // A cached row can be older than this process's own write: it costs no statement.
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await hotSql(db).run("test.ageActivity", `UPDATE "Agent" SET "lastActiveAt" = $1 WHERE id = $2`, [twoMinutesAgo, agent.id]);
    const skipped = await statementsDuring(async () => recordActivity(db, "agent", agent.id, twoMinutesAgo.getTime()));
    expect((await lastActiveAt(agent.id))?.getTime()).toBe(twoMinutesAgo.getTime());
    // A row last used within the minute (as read) is not written either; another row is.
    const other = await newAgent();
    await recordActivity(db, "agent", other.id, Date.now() - 10_000);
    expect(await lastActiveAt(other.id)).toBeNull();
    await recordActivity(db, "agent", other.id, Date.now() - 61_000);
    expect(await lastActiveAt(other.id)).toBeInstanceOf(Date);
    if (testDialect === "postgres") {
      expect(written.names).toEqual(["activity.agent"]);
      expect(skipped.names).toEqual([]);
    }
  });

  it("a personal key's use is recorded once a minute, without invalidating", async () => {
    const created = await human.post("/v1/auth/api-keys", { name: `activity-${randomUUID().slice(0, 8)}` });
    expect(created.status).toBe(201);
    const before = await settledStamp();
    const viaKey = client(server.url, created.body.api_key as string);
    expect((await viaKey.get("/v1/auth/me")).status).toBe(200);
    const used = await server.rt.db.apiKey.findUniqueOrThrow({ where: { id: created.body.key.id } });
    expect(used.lastUsedAt).toBeInstanceOf(Date);
    expect(await settledStamp()).toBe(before);
    expect((await viaKey.get("/v1/auth/me")).status).toBe(200);
    const again = await server.rt.db.apiKey.findUniqueOrThrow({ where: { id: created.body.key.id } });
    expect(again.lastUsedAt?.getTime()).toBe(used.lastUsedAt?.getTime());
  });
});

describe.runIf(testDialect === "postgres")("the cache triggers skip activity-only updates (PostgreSQL)", () => {
  let listener: pg.Client;
  const heard: string[] = [];

  beforeAll(async () => {
    listener = new pg.Client({ connectionString: server.databaseUrl });
    await listener.connect();
    listener.on("notification", (n) => heard.push(n.payload ?? ""));
    await listener.query("LISTEN talon_cache");
  });
  afterAll(async () => {
    await listener?.end();
  });

  /**
   * Runs `sql` between two marker notifications and returns what was heard between them. Notifications
   * arrive in commit order, so once the first marker is heard, everything committed before (an agent or
   * key the test just created over HTTP, whose notification can reach the listener after the response)
   * has been heard too; once the second is, anything `sql` notified has been.
   */
  async function notifiedBy(sql: string, params: unknown[]): Promise<string[]> {
    const other = new pg.Client({ connectionString: server.databaseUrl });
    await other.connect();
    const mark = async () => {
      const marker = `marker-${randomUUID()}`;
      await other.query("SELECT pg_notify('talon_cache', $1)", [marker]);
      await waitFor("the marker notification", () => heard.includes(marker));
      return marker;
    };
    try {
      const before = await mark();
      heard.splice(0, heard.indexOf(before) + 1);
      await other.query(sql, params);
      const after = await mark();
      return heard.slice(0, heard.indexOf(after));
    } finally {
      await other.end();
    }
  }

  it("an update of Agent.lastActiveAt or ApiKey.lastUsedAt alone notifies nothing; any other change notifies", async () => {
    const agent = await newAgent();
    expect(await notifiedBy(`UPDATE "Agent" SET "lastActiveAt" = now() WHERE id = $1`, [agent.id])).toEqual([]);
    expect(await notifiedBy(`UPDATE "Agent" SET "isActive" = false, "lastActiveAt" = now() WHERE id = $1`, [agent.id])).toEqual([""]);
    expect(await notifiedBy(`UPDATE "Agent" SET "tokenVersion" = "tokenVersion" + 1 WHERE id = $1`, [agent.id])).toEqual([""]);

    const created = await human.post("/v1/auth/api-keys", { name: `activity-${randomUUID().slice(0, 8)}` });
    expect(created.status).toBe(201);
    const keyId = created.body.key.id as string;
    expect(await notifiedBy(`UPDATE "ApiKey" SET "lastUsedAt" = now() WHERE id = $1`, [keyId])).toEqual([]);
    expect(await notifiedBy(`UPDATE "ApiKey" SET "isActive" = false WHERE id = $1`, [keyId])).toEqual([""]);
    expect(await notifiedBy(`DELETE FROM "ApiKey" WHERE id = $1`, [keyId])).toEqual([""]);
  });
});
