import { randomBytes, randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuditRowInput, auditLockKey, encodingAround, GENESIS_HASH, hashFromAround } from "../../server/audit/chain";
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

  it("a stale head, in a batch without webhook deliveries, is chained again by the database in the same statement", async () => {
    const before = await chainOf(owner.orgId);
    expect(before.length).toBeGreaterThan(0); // the sign-up's own events
    const rows = [row(owner.orgId), row(owner.orgId)];
    // Knows nothing, so guesses an empty chain: wrong, and the database chains the batch onto the real head.
    const guesses = new ChainGuesses();
    const { result, statements } = await appendStatements(() => appendGuessed(hotSql(server.rt.db), rows, guesses));
    expect(result).toBe(true);
    expect(statements).toEqual(["audit.append"]);
    const after = await chainOf(owner.orgId);
    expect(after.slice(before.length).map((r) => r.id)).toEqual(rows.map((r) => r.id));
    expect(after[before.length]!.prevHash).toBe(before.at(-1)!.hash);
    expect(after[before.length]!.seq).toBe(before.at(-1)!.seq! + 1);
    expect((await client(server.url, owner.token).get("/v1/audit/verify")).body.chain_valid).toBe(true);
    // The answer taught it the head: the next batch goes in as sent.
    expect(guesses.head(owner.orgId)).toEqual({ seq: after.at(-1)!.seq, hash: after.at(-1)!.hash });
    const next = row(owner.orgId);
    expect((await appendStatements(() => appendGuessed(hotSql(server.rt.db), [next], guesses))).statements).toEqual(["audit.append"]);
    expect((await chainOf(owner.orgId)).at(-1)).toMatchObject({ id: next.id, seq: after.at(-1)!.seq! + 1, prevHash: after.at(-1)!.hash });
  });

  it("several orgs in one batch with stale heads: each chained onto its own head, in the batch's order", async () => {
    const [a, b] = [`guessed-${randomUUID()}`, `guessed-${randomUUID()}`];
    const first = [row(a), row(b)];
    expect(await appendGuessed(hotSql(server.rt.db), first, new ChainGuesses())).toBe(true);
    // Interleaved orgs, and guesses that know neither head.
    const rows = [row(b), row(a), row(b), row(a)];
    expect(await appendGuessed(hotSql(server.rt.db), rows, new ChainGuesses(), 1)).toBe(true);
    for (const orgId of [a, b]) {
      const chain = await chainOf(orgId);
      const mine = [...first, ...rows].filter((r) => r.orgId === orgId).map((r) => r.id);
      expect(chain.map((r) => r.id)).toEqual(mine);
      expect(chain.map((r) => r.seq)).toEqual([1, 2, 3]);
      for (let i = 1; i < chain.length; i++) expect(chain[i]!.prevHash).toBe(chain[i - 1]!.hash);
    }
  });

  it("a right guess is one statement; a stale guess with webhook deliveries writes nothing and says so", async () => {
    const guesses = new ChainGuesses();
    expect(await appendGuessed(hotSql(server.rt.db), [row(owner.orgId)], guesses)).toBe(true);
    const { result, statements } = await appendStatements(() => appendGuessed(hotSql(server.rt.db), [row(owner.orgId)], guesses));
    expect(result).toBe(true);
    expect(statements).toEqual(["audit.append"]);

    const hookId = randomUUID();
    await server.rt.db.webhook.create({
      data: { id: hookId, orgId: owner.orgId, url: "https://hooks.example.com/stale", events: JSON.stringify(["audit.*"]), sealedSecret: randomBytes(32), createdBy: owner.userId },
    });
    try {
      // Knows the webhook (so its batch makes a delivery, which names the event's seq and hash) but not the head.
      const knowing = new ChainGuesses();
      knowing.found([owner.orgId], [{ kind: "hook", orgId: owner.orgId, id: hookId, events: JSON.stringify(["audit.*"]) }]);
      const stale = [row(owner.orgId)];
      expect(await appendGuessed(hotSql(server.rt.db), stale, knowing, 1)).toBe(false);
      expect(await server.rt.db.auditEvent.count({ where: { id: stale[0]!.id } })).toBe(0);
      // With attempts left, the answer corrects the head and the next statement goes in, with its delivery.
      const { result: retried, statements: again } = await appendStatements(() => appendGuessed(hotSql(server.rt.db), stale, knowing));
      expect(retried).toBe(true);
      expect(again).toEqual(["audit.append"]);
      const delivery = await server.rt.db.webhookDelivery.findFirst({ where: { webhookId: hookId, payload: { contains: stale[0]!.id } }, select: { payload: true } });
      const event = (await chainOf(owner.orgId)).at(-1)!;
      expect(event.id).toBe(stale[0]!.id);
      expect(delivery?.payload).toContain(event.hash!);
    } finally {
      await server.rt.db.webhookDelivery.deleteMany({ where: { webhookId: hookId } });
      await server.rt.db.webhook.delete({ where: { id: hookId } });
    }
    expect((await client(server.url, owner.token).get("/v1/audit/verify")).body.chain_valid).toBe(true);
  });

  it("the database refuses, writing nothing, an event whose hash is not its encoding's", async () => {
    const orgId = `guessed-${randomUUID()}`;
    const db = new pg.Client({ connectionString: server.databaseUrl });
    await db.connect();
    try {
      const r = row(orgId);
      const around = encodingAround(r);
      const hash = hashFromAround(around, 1, GENESIS_HASH);
      // Guessed head (seq 5) is stale (the org has none): the database checks each hash before chaining again.
      const call = (eventHash: string) =>
        db.query(
          `SELECT kind FROM talon_audit_record($1::text[], $2::text[], $3::int[], $4::text[], '{}'::text[], '{}'::text[], '{}'::text[],
             $5::text[], $2::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
             $14::timestamp(3)[], $15::int[], $16::text[], $17::text[], '{}'::text[], '{}'::text[], '{}'::text[], '{}'::text[], '{}'::text[], '{}'::timestamp(3)[], $18::text[], $19::text[])`,
          [[auditLockKey(orgId)], [orgId], [5], ["e".repeat(64)], [r.id], [r.action], [r.actorId], [r.actorType], [r.resourceType], [r.resourceId], [r.details], [r.ipAddress], [r.requestId], [r.createdAt.toISOString()], [1], [GENESIS_HASH], [eventHash], [around[0]], [around[1]]],
        );
      await expect(call("a".repeat(64))).rejects.toThrow(/not the hash of its encoding/);
      expect(await chainOf(orgId)).toEqual([]);
      expect((await call(hash)).rows.map((x) => x.kind)).toEqual(["event"]);
      expect(await chainOf(orgId)).toEqual([{ id: r.id, seq: 1, prevHash: GENESIS_HASH, hash }]);
    } finally {
      await db.end();
    }
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
