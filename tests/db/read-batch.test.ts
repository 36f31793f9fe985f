import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReadBatch } from "../../server/db/read-batch";
import { findSecretForRead } from "../../server/secrets/repo";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { statementsDuring } from "../helpers/pg-statements";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";

/**
 * The reads of one turn of the event loop share one call (server/db/read-batch.ts); on PostgreSQL a
 * secret read is one statement for all of them (server/secrets/repo.ts, READ_MANY). Each caller must get
 * its own row — the right org, vault, path and version — whatever else is in its batch.
 */
describe("ReadBatch", () => {
  it("coalesces the loads of one turn into one call and answers each at its own index", async () => {
    const calls: number[][] = [];
    const batch = new ReadBatch<number, string>(async (keys) => {
      calls.push([...keys]);
      return keys.map((k) => `v${k}`);
    });
    const answers = await Promise.all([1, 2, 3].map((k) => batch.load(k)));
    expect(answers).toEqual(["v1", "v2", "v3"]);
    expect(calls).toEqual([[1, 2, 3]]);
    // The next turn is a new batch.
    expect(await batch.load(4)).toBe("v4");
    expect(calls).toEqual([[1, 2, 3], [4]]);
  });

  it("a full batch goes at once; the rest wait for the end of the turn", async () => {
    const calls: number[][] = [];
    const batch = new ReadBatch<number, number>(async (keys) => (calls.push([...keys]), keys.map((k) => k * 2)), { maxBatch: 2 });
    expect(await Promise.all([1, 2, 3, 4, 5].map((k) => batch.load(k)))).toEqual([2, 4, 6, 8, 10]);
    expect(calls).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("with keyOf, equal keys of one batch share one slot; a batch already sent is never joined", async () => {
    const calls: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batch = new ReadBatch<{ id: string }, { id: string; call: number }>(
      async (keys) => {
        calls.push(keys.map((k) => k.id));
        const call = calls.length;
        if (call === 1) await gate;
        return keys.map((k) => ({ id: k.id, call }));
      },
      { keyOf: (k) => k.id },
    );
    const first = [batch.load({ id: "a" }), batch.load({ id: "b" }), batch.load({ id: "a" })];
    await new Promise((r) => setImmediate(r));
    // The first batch went with each key once, and is still in flight (held at the gate): a new `a` waits for the next one.
    expect(calls).toEqual([["a", "b"]]);
    const later = batch.load({ id: "a" });
    release();
    const [a1, b, a2] = await Promise.all(first);
    expect([a1, b, a2]).toEqual([{ id: "a", call: 1 }, { id: "b", call: 1 }, { id: "a", call: 1 }]);
    expect(await later).toEqual({ id: "a", call: 2 });
    expect(calls).toEqual([["a", "b"], ["a"]]);
  });

  it("a failed load fails every caller of its batch, and only those", async () => {
    let fail = true;
    const batch = new ReadBatch<number, number>(async (keys) => {
      if (fail) throw new Error("database unavailable");
      return [...keys];
    });
    const first = await Promise.allSettled([batch.load(1), batch.load(2)]);
    expect(first.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    fail = false;
    expect(await batch.load(3)).toBe(3);
  });

  it("a load that answers the wrong number of results is an error, never a result at the wrong index", async () => {
    const batch = new ReadBatch<number, number>(async (keys) => keys.slice(1));
    const settled = await Promise.allSettled([batch.load(1), batch.load(2)]);
    expect(settled.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  });
});

describe(`secret reads batched per turn (${testDialect})`, () => {
  let server: TestServer;
  let owner: Awaited<ReturnType<typeof signUpVerified>>;
  let other: Awaited<ReturnType<typeof signUpVerified>>;
  let vaultA: string;
  let vaultB: string;
  let otherVault: string;

  beforeAll(async () => {
    server = await startTestServer();
    owner = await signUpVerified(server);
    other = await signUpVerified(server);
    const api = client(server.url, owner.token);
    vaultA = (await api.post("/v1/vaults", { name: "batch-a" })).body.id as string;
    vaultB = (await api.post("/v1/vaults", { name: "batch-b" })).body.id as string;
    otherVault = (await client(server.url, other.token).post("/v1/vaults", { name: "batch-other" })).body.id as string;
    for (const [vault, path, value] of [
      [vaultA, "k/one", "a-one-v1"],
      [vaultA, "k/one", "a-one-v2"],
      [vaultA, "k/two", "a-two-v1"],
      [vaultB, "k/one", "b-one-v1"],
    ] as const) {
      expect((await api.put(`/v1/vaults/${vault}/secrets/${path}`, { value })).status).toBe(201);
    }
    expect((await client(server.url, other.token).put(`/v1/vaults/${otherVault}/secrets/k/one`, { value: "other-v1" })).status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("concurrent reads of different vaults, paths and versions each get their own row", async () => {
    const org = owner.orgId;
    const { result: reads, names } = await statementsDuring(() => Promise.all([
      findSecretForRead(server.rt.db, org, vaultA, "k/one"),
      findSecretForRead(server.rt.db, org, vaultA, "k/one", 1),
      findSecretForRead(server.rt.db, org, vaultA, "k/two"),
      findSecretForRead(server.rt.db, org, vaultB, "k/one"),
      findSecretForRead(server.rt.db, org, vaultB, "k/missing"),
      findSecretForRead(server.rt.db, org, vaultA, "k/one", 7),
      // Another org's vault: no row at all, as if it did not exist.
      findSecretForRead(server.rt.db, org, otherVault, "k/one"),
      findSecretForRead(server.rt.db, other.orgId, otherVault, "k/one"),
    ]));
    const seen = reads.map((r) => (r === null ? null : [r.vault.id, r.vault.orgId, r.secret === null ? null : r.version?.version ?? "no version"]));
    expect(seen).toEqual([
      [vaultA, org, 2],
      [vaultA, org, 1],
      [vaultA, org, 1],
      [vaultB, org, 1],
      [vaultB, org, null],
      [vaultA, org, "no version"],
      null,
      [otherVault, other.orgId, 1],
    ]);
    // The values are the versions' own ciphertexts: the two versions of k/one differ.
    expect(Buffer.from(reads[0]!.version!.ciphertext).equals(Buffer.from(reads[1]!.version!.ciphertext))).toBe(false);
    // PostgreSQL: all eight in one statement. SQLite reads in process, one prepared statement each.
    expect(names.filter((n) => n === "secrets.readMany").length).toBe(testDialect === "postgres" ? 1 : 0);
  });

  it("the API answers each of many concurrent reads with its own value", async () => {
    const api = client(server.url, owner.token);
    const wanted = [
      [`/v1/vaults/${vaultA}/secrets/k/one`, "a-one-v2"],
      [`/v1/vaults/${vaultA}/secret-version/k/one/1`, "a-one-v1"],
      [`/v1/vaults/${vaultA}/secrets/k/two`, "a-two-v1"],
      [`/v1/vaults/${vaultB}/secrets/k/one`, "b-one-v1"],
    ] as const;
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => api.get(wanted[i % wanted.length]![0])));
    answers.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.body.value).toBe(wanted[i % wanted.length]![1]);
    });
    const otherOrg = await api.get(`/v1/vaults/${otherVault}/secrets/k/one`);
    expect(otherOrg.status).toBe(404);
  });
});
