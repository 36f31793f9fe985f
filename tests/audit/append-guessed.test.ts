import { randomBytes, randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuditRowInput, auditLockKey, GENESIS_HASH } from "../../server/audit/chain";
import { appendGuessed, ChainGuesses } from "../../server/audit/repo";
import { hotSql } from "../../server/db/hot";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { statementsDuring } from "../helpers/pg-statements";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";

/**
 * PostgreSQL's one-statement audit append (server/audit/repo.ts, appendGuessed; the talon_audit_append
 * migration): the batch is chained onto the heads this instance last saw and carries the deliveries of
 * the webhooks it last saw; the database checks both under the chain's lock and writes only if they hold.
 * A wrong guess must never fork the chain or lose a delivery: it is answered with what is there, and the
 * next attempt uses it.
 */
let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;

const row = (orgId: string, action = "secret.read"): AuditRowInput => ({
  id: randomUUID(),
  orgId,
  actorId: `user:${owner.userId}`,
  actorType: "user",
  action,
  resourceType: "secret",
  resourceId: randomUUID(),
  details: JSON.stringify({ path: "guessed/path" }),
  ipAddress: "127.0.0.1",
  requestId: randomUUID(),
  createdAt: new Date(),
});

/** The audit statements sent while `fn` runs. */
async function appendStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const { result, names } = await statementsDuring(fn);
  return { result, statements: names.filter((n) => n.startsWith("audit.")) };
}

const chainOf = (orgId: string) =>
  server.rt.db.auditEvent.findMany({ where: { orgId, seq: { not: null } }, orderBy: { seq: "asc" }, select: { id: true, seq: true, prevHash: true, hash: true } });

// PostgreSQL only: SQLite appends under its one writer's lock, in process, with nothing to guess.
describe.runIf(testDialect === "postgres")("audit append on a guessed chain head (postgres)", () => {
  beforeAll(async () => {
    server = await startTestServer();
    owner = await signUpVerified(server);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("a stale head is corrected from the answer: the batch goes in on the retry, onto the real head", async () => {
    const before = await chainOf(owner.orgId);
    expect(before.length).toBeGreaterThan(0); // the sign-up's own events
    const rows = [row(owner.orgId), row(owner.orgId)];
    // Knows nothing, so guesses an empty chain: wrong, and told so.
    const { result, statements } = await appendStatements(() => appendGuessed(hotSql(server.rt.db), rows, new ChainGuesses()));
    expect(result).toBe(true);
    expect(statements).toEqual(["audit.append", "audit.append"]);
    const after = await chainOf(owner.orgId);
    expect(after.slice(before.length).map((r) => r.id)).toEqual(rows.map((r) => r.id));
    expect(after[before.length]!.prevHash).toBe(before.at(-1)!.hash);
    expect((await client(server.url, owner.token).get("/v1/audit/verify")).body.chain_valid).toBe(true);
  });

  it("a right guess is one statement; a guess that stays wrong writes nothing and says so", async () => {
    const guesses = new ChainGuesses();
    expect(await appendGuessed(hotSql(server.rt.db), [row(owner.orgId)], guesses)).toBe(true);
    const { result, statements } = await appendStatements(() => appendGuessed(hotSql(server.rt.db), [row(owner.orgId)], guesses));
    expect(result).toBe(true);
    expect(statements).toEqual(["audit.append"]);

    const stale = [row(owner.orgId)];
    expect(await appendGuessed(hotSql(server.rt.db), stale, new ChainGuesses(), 1)).toBe(false);
    expect(await server.rt.db.auditEvent.count({ where: { id: stale[0]!.id } })).toBe(0);
  });

  it("a webhook added since the guess still gets the batch's deliveries", async () => {
    const guesses = new ChainGuesses();
    expect(await appendGuessed(hotSql(server.rt.db), [row(owner.orgId)], guesses)).toBe(true);
    // Added behind this instance's back (no audit event, so the head guess stays right): only the
    // webhooks differ from the guess.
    const hookId = randomUUID();
    await server.rt.db.webhook.create({
      data: { id: hookId, orgId: owner.orgId, url: "https://hooks.example.com/guessed", events: JSON.stringify(["audit.*"]), sealedSecret: randomBytes(32), createdBy: owner.userId },
    });
    try {
      const rows = [row(owner.orgId), row(owner.orgId, "secret.list")];
      const { result, statements } = await appendStatements(() => appendGuessed(hotSql(server.rt.db), rows, guesses));
      expect(result).toBe(true);
      expect(statements).toEqual(["audit.append", "audit.append"]);
      const deliveries = await server.rt.db.webhookDelivery.findMany({ where: { webhookId: hookId }, select: { eventType: true, payload: true } });
      expect(deliveries.map((d) => d.eventType).sort()).toEqual(["audit.secret.list", "audit.secret.read"]);
      for (const r of rows) expect(deliveries.some((d) => d.payload.includes(r.id))).toBe(true);
      // Known now: the next batch is one statement again, with its delivery.
      const next = row(owner.orgId);
      expect((await appendStatements(() => appendGuessed(hotSql(server.rt.db), [next], guesses))).statements).toEqual(["audit.append"]);
      expect(await server.rt.db.webhookDelivery.count({ where: { webhookId: hookId, payload: { contains: next.id } } })).toBe(1);
    } finally {
      await server.rt.db.webhook.delete({ where: { id: hookId } });
    }
  });

  it("waits for another holder of the org's chain lock and chains onto what it committed", async () => {
    const orgId = `guessed-${randomUUID()}`;
    const holder = new pg.Client({ connectionString: server.databaseUrl });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [auditLockKey(orgId)]);
      await holder.query(
        `INSERT INTO "AuditEvent" (id, "orgId", action, "actorId", "actorType", "resourceType", "resourceId", seq, "prevHash", hash)
         VALUES ($1, $2, 'test.event', 'test', 'user', 'org', $2, 1, $3, $4)`,
        [randomUUID(), orgId, GENESIS_HASH, "f".repeat(64)],
      );
      const rows = [row(orgId)];
      // Guesses an empty chain, which is what it is until the holder commits.
      const appending = appendGuessed(hotSql(server.rt.db), rows, new ChainGuesses());
      const early = await Promise.race([appending.then(() => "answered"), new Promise((r) => setTimeout(() => r("waiting"), 300))]);
      expect(early).toBe("waiting");
      await holder.query("COMMIT");
      expect(await appending).toBe(true);
      expect((await chainOf(orgId)).map((r) => [r.seq, r.prevHash])).toEqual([
        [1, GENESIS_HASH],
        [2, "f".repeat(64)],
      ]);
    } finally {
      await holder.end();
    }
  });

  it("the group commit writes a read's event with the one statement, not a transaction under the lock", async () => {
    const api = client(server.url, owner.token);
    const vault = (await api.post("/v1/vaults", { name: "guessed" })).body.id as string;
    expect((await api.put(`/v1/vaults/${vault}/secrets/g/one`, { value: "guessed-value" })).status).toBe(201);
    const { result, statements } = await appendStatements(() => api.get(`/v1/vaults/${vault}/secrets/g/one`));
    expect(result.status).toBe(200);
    expect(statements).toContain("audit.append");
    expect(statements).not.toContain("audit.lockHeads");
    const read = await server.rt.db.auditEvent.findFirst({ where: { orgId: owner.orgId, action: "secret.read" }, orderBy: { seq: "desc" } });
    expect(read?.resourceId).toBeTruthy();
    expect((await api.get("/v1/audit/verify")).body.chain_valid).toBe(true);
  });
});
