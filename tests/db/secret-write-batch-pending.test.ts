import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findOrgVault } from "../../server/secrets/repo";
import { type BatchedWrite, writeInBatch } from "../../server/secrets/write-batch";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { putNextVersion, secretWriteAudit } from "../helpers/write-batch";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";

/**
 * The secret write batch records new versions in its scope and writes them together before the audit
 * append (PostgreSQL: one `unnest` statement for the secret rows and one for the versions). What a
 * write sees must not change: the batch's later writes see the earlier ones, through the scope and
 * through any statement on the batch's transaction, and a secret created and written again in one
 * batch ends as one row at its latest version.
 */
let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let vaultId: string;

beforeAll(async () => {
  server = await startTestServer();
  owner = await signUpVerified(server);
  const vault = await client(server.url, owner.token).post("/v1/vaults", { name: "pending" });
  expect(vault.status).toBe(201);
  vaultId = vault.body.id as string;
});
afterAll(async () => {
  await server?.close();
});

const audit = (secretId: string, path: string) => secretWriteAudit(owner, vaultId, secretId, path);

type Seen = { viaScope: number | null; viaTx: number | null };

/** Appends the next version at `path` through the scope, recording what its check saw (scope and SQL). */
function nextVersion(path: string, seen: Seen[]): BatchedWrite<number> {
  return {
    vaultId,
    path,
    check: async (tx, batch) => {
      const current = await batch.current(vaultId, path);
      const row = await tx.get("test.pending.head", `SELECT "currentVersion" AS v FROM "Secret" WHERE "vaultId" = $1 AND path = $2`, [vaultId, path]);
      seen.push({ viaScope: current?.currentVersion ?? null, viaTx: row ? Number(row.v) : null });
      return async () => {
        const { id, version } = putNextVersion(batch, vaultId, path, current);
        return { result: version, audit: audit(id, path) };
      };
    },
  };
}

/** A write the scope does not know of: moves the head at `path` with a statement of its own. */
function rawMove(path: string, to: number): BatchedWrite<null> {
  return {
    vaultId,
    path,
    check: async () => async (tx) => {
      await tx.run("test.pending.move", `UPDATE "Secret" SET "currentVersion" = $3 WHERE "vaultId" = $1 AND path = $2`, [vaultId, path, to]);
      return { result: null, audit: audit(randomUUID(), path) };
    },
  };
}

describe(`secret write batch, pending versions (${testDialect})`, () => {
  it("later writes in one batch see the earlier ones, through the scope and through SQL", async () => {
    const seen: Seen[] = [];
    // Submitted in one turn of the event loop: one batch.
    const results = await Promise.all([
      writeInBatch(server.rt, nextVersion("p/a", seen)),
      writeInBatch(server.rt, nextVersion("p/a", seen)),
      writeInBatch(server.rt, nextVersion("p/b", seen)),
      writeInBatch(server.rt, nextVersion("p/a", seen)),
    ]);
    expect(results).toEqual([1, 2, 1, 3]);
    expect(seen).toEqual([
      { viaScope: null, viaTx: null },
      { viaScope: 1, viaTx: 1 },
      { viaScope: null, viaTx: null },
      { viaScope: 2, viaTx: 2 },
    ]);
    const a = await server.rt.db.secret.findUniqueOrThrow({ where: { vaultId_path: { vaultId, path: "p/a" } }, include: { versions: { orderBy: { version: "asc" } } } });
    expect(a.currentVersion).toBe(3);
    expect(a.versions.map((v) => [v.version, v.metadata])).toEqual([[1, '{"v":1}'], [2, '{"v":2}'], [3, '{"v":3}']]);
  });

  it("a statement the scope did not record makes it read the heads again", async () => {
    const seen: Seen[] = [];
    await writeInBatch(server.rt, nextVersion("q/a", seen));
    const results = await Promise.all([
      writeInBatch(server.rt, nextVersion("q/a", seen)),
      writeInBatch(server.rt, rawMove("q/a", 7)),
      writeInBatch(server.rt, nextVersion("q/a", seen)),
    ]);
    expect(results).toEqual([2, null, 8]);
    expect(seen.slice(1)).toEqual([
      { viaScope: 1, viaTx: 1 },
      { viaScope: 7, viaTx: 7 },
    ]);
  });

  it("over HTTP: a burst at a new path creates it once; every version holds its own value and time", async () => {
    const api = client(server.url, owner.token);
    const puts = await Promise.all(Array.from({ length: 16 }, (_, i) => api.put(`/v1/vaults/${vaultId}/secrets/h/new`, { value: `new-${i}`, expires_at: new Date(Date.now() + (i + 1) * 3_600_000).toISOString() })));
    expect(puts.map((p) => p.status)).toEqual(puts.map(() => 201));
    expect(new Set(puts.map((p) => p.body.id)).size).toBe(1);
    expect(puts.map((p) => p.body.version as number).sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    for (const [i, p] of puts.entries()) {
      const got = await api.get(`/v1/vaults/${vaultId}/secret-version/h/new/${p.body.version as number}`);
      expect(got.status).toBe(200);
      expect(got.body.value).toBe(`new-${i}`);
      expect(got.body.expires_at).toBe(p.body.expires_at);
      expect(got.body.created_at).toBe(p.body.created_at);
    }
    const head = await server.rt.db.secret.findUniqueOrThrow({ where: { vaultId_path: { vaultId, path: "h/new" } } });
    expect(head.currentVersion).toBe(16);
    expect((await api.get("/v1/audit/verify")).body.chain_valid).toBe(true);
  });

  it("the vault reads of one turn share a SELECT; each caller gets its own copy, and a later read sees a later change", async () => {
    const db = server.rt.db;
    const reads = await Promise.all(Array.from({ length: 5 }, () => findOrgVault(db, owner.orgId, vaultId)));
    expect(reads.every((v) => v?.id === vaultId && v.name === "pending")).toBe(true);
    expect(new Set(reads).size).toBe(5);
    reads[0]!.wrappedKey.fill(0);
    expect(Buffer.from(reads[1]!.wrappedKey).equals(Buffer.alloc(reads[1]!.wrappedKey.length))).toBe(false);
    expect(await findOrgVault(db, randomUUID(), vaultId)).toBeNull();
    await db.vault.update({ where: { id: vaultId }, data: { description: "changed" } });
    expect((await findOrgVault(db, owner.orgId, vaultId))?.description).toBe("changed");
  });
});
