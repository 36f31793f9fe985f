import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HotTx } from "../../server/db/hot";
import { ApiError } from "../../server/http/errors";
import { type BatchedWrite, writeInBatch } from "../../server/secrets/write-batch";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { secretWriteAudit } from "../helpers/write-batch";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";

/**
 * Group commit of secret versions (server/secrets/write-batch.ts): writes that share a transaction
 * still fail one at a time. A domain refusal in one write's checks fails that write alone; a database
 * error in one write rolls the batch back and the others commit again one by one; over HTTP, refusals
 * mixed into a burst of PUTs leave every PUT's version and the audit chain as they would be alone.
 */
let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let vaultId: string;

beforeAll(async () => {
  server = await startTestServer();
  owner = await signUpVerified(server);
  const vault = await client(server.url, owner.token).post("/v1/vaults", { name: "batch" });
  expect(vault.status).toBe(201);
  vaultId = vault.body.id as string;
});
afterAll(async () => {
  await server?.close();
});

const auditFor = (secretId: string, path: string) => secretWriteAudit(owner, vaultId, secretId, path, { version: 1 });

/** A write creating a secret row at `path` (no version: the batcher is what is under test). */
function createAt(path: string, opts: { refuse?: boolean; breakDatabase?: boolean } = {}): BatchedWrite<string> {
  return {
    vaultId,
    path,
    check: async (tx: HotTx) => {
      await tx.get("test.batch.find", `SELECT id FROM "Secret" WHERE "vaultId" = $1 AND path = $2`, [vaultId, path]);
      if (opts.refuse) throw ApiError.conflict("refused by its own check");
      return async (tx: HotTx) => {
        const id = randomUUID();
        const now = new Date();
        // A vault that does not exist: a foreign-key violation, raised by the database mid-batch.
        await tx.run(
          "test.batch.insert",
          `INSERT INTO "Secret" (id, "vaultId", path, "currentVersion", "createdAt", "updatedAt") VALUES ($1, $2, $3, 1, $4, $4)`,
          [id, opts.breakDatabase ? randomUUID() : vaultId, path, now],
        );
        return { result: id, audit: auditFor(id, path) };
      };
    },
  };
}

const settle = <T>(ps: Promise<T>[]) => Promise.allSettled(ps);

describe(`secret write batches (${testDialect})`, () => {
  it("a write refused by its check fails alone; the others in its batch commit", async () => {
    const rt = server.rt;
    // Submitted in one turn of the event loop: one batch.
    const results = await settle([writeInBatch(rt, createAt("a/1")), writeInBatch(rt, createAt("a/2", { refuse: true })), writeInBatch(rt, createAt("a/3"))]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(ApiError);
    const paths = (await rt.db.secret.findMany({ where: { vaultId, path: { startsWith: "a/" } }, select: { path: true } })).map((s) => s.path).sort();
    expect(paths).toEqual(["a/1", "a/3"]);
  });

  it("a database error in one write rolls its batch back, and the others commit one by one", async () => {
    const rt = server.rt;
    const results = await settle([writeInBatch(rt, createAt("b/1")), writeInBatch(rt, createAt("b/2", { breakDatabase: true })), writeInBatch(rt, createAt("b/3"))]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).not.toBeInstanceOf(ApiError);
    const paths = (await rt.db.secret.findMany({ where: { vaultId, path: { startsWith: "b/" } }, select: { path: true } })).map((s) => s.path).sort();
    expect(paths).toEqual(["b/1", "b/3"]);
    // Exactly one audit event per committed write: the rolled-back batch left none behind.
    const events = await rt.db.auditEvent.findMany({ where: { orgId: owner.orgId, details: { contains: '"path":"b/' } }, select: { details: true } });
    expect(events.map((e) => (JSON.parse(e.details) as { path: string }).path).sort()).toEqual(["b/1", "b/3"]);
  });

  it("a read shared through BatchScope.once runs once per batch; its refusal fails each write that asked, alone", async () => {
    const rt = server.rt;
    let reads = 0;
    const shared = (path: string, key: string, refuse = false): BatchedWrite<string> => ({
      vaultId,
      path,
      check: async (tx, batch) => {
        await batch.once(key, async () => {
          reads++;
          await tx.get("test.batch.vault", `SELECT id FROM "Vault" WHERE id = $1`, [vaultId]);
          if (refuse) throw ApiError.conflict("refused by the shared read");
        });
        return createAt(path).check(tx, batch);
      },
    });
    const results = await settle([
      writeInBatch(rt, shared("c/1", "ok")),
      writeInBatch(rt, shared("c/2", "ok")),
      writeInBatch(rt, shared("c/3", "no", true)),
      writeInBatch(rt, shared("c/4", "no")),
      writeInBatch(rt, createAt("c/5")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "rejected", "fulfilled"]);
    expect(reads).toBe(2);
    const paths = (await rt.db.secret.findMany({ where: { vaultId, path: { startsWith: "c/" } }, select: { path: true } })).map((s) => s.path).sort();
    expect(paths).toEqual(["c/1", "c/2", "c/5"]);
  });

  it("over HTTP: refused rotations mixed into a burst of PUTs leave every PUT its own version", async () => {
    const api = client(server.url, owner.token);
    const puts = Array.from({ length: 12 }, (_, i) => api.put(`/v1/vaults/${vaultId}/secrets/burst/hot`, { value: `hot-${i}` }));
    const fresh = Array.from({ length: 8 }, (_, i) => api.put(`/v1/vaults/${vaultId}/secrets/burst/fresh-${i}`, { value: `fresh-${i}` }));
    const rotations = Array.from({ length: 6 }, (_, i) => api.post(`/v1/vaults/${vaultId}/secret-rotate/burst/missing-${i}`, {}));
    const [p, f, r] = await Promise.all([Promise.all(puts), Promise.all(fresh), Promise.all(rotations)]);
    expect(p.map((x) => x.status)).toEqual(p.map(() => 201));
    expect(p.map((x) => x.body.version as number).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(f.map((x) => x.status)).toEqual(f.map(() => 201));
    expect(r.map((x) => x.status)).toEqual(r.map(() => 404));
    const last = p.findIndex((x) => x.body.version === 12);
    expect((await api.get(`/v1/vaults/${vaultId}/secrets/burst/hot`)).body.value).toBe(`hot-${last}`);
    const verify = await api.get("/v1/audit/verify");
    expect(verify.body.chain_valid).toBe(true);
  });
});
