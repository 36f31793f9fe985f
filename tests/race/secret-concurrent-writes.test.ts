import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { startTwinServers, type TwinServers } from "../helpers/agents";
import { client, type TestResponse } from "../helpers/http";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";

/**
 * Concurrent writers of one secret path all succeed, one after another: the write serialises on the
 * path (advisory lock on PostgreSQL, the write lock on SQLite) instead of racing and retrying. Every
 * writer gets 201, the versions are 1..n exactly once, the chain of audit events holds, and the value
 * read afterwards is the one written as the highest version. On PostgreSQL the same holds for two
 * Talon instances on one database.
 */
const WRITERS = 40;

let server: TestServer;
let twins: TwinServers;

beforeAll(async () => {
  [server, twins] = await Promise.all([startTestServer(), startTwinServers()]);
});
afterAll(async () => {
  await Promise.all([server?.close(), twins?.close()]);
});

async function ownerWithVault(s: TestServer) {
  const owner = await signUpVerified(s);
  await s.rt.db.org.update({ where: { id: owner.orgId }, data: { tier: "enterprise" } });
  const vault = await client(s.url, owner.token).post("/v1/vaults", { name: `race-${Math.random().toString(36).slice(2, 8)}` });
  expect(vault.status).toBe(201);
  return { owner, vaultId: vault.body.id as string };
}

/** Every response 201, versions exactly `first..first+n-1`, stored rows alike, and the last version's value is what reads back. */
async function expectSerialised(s: TestServer, token: string, vaultId: string, path: string, results: TestResponse[], first: number) {
  expect(results.map((r) => r.status)).toEqual(results.map(() => 201));
  const versions = results.map((r) => r.body.version as number).sort((x, y) => x - y);
  expect(versions).toEqual(Array.from({ length: results.length }, (_, i) => first + i));

  const secret = await s.rt.db.secret.findFirst({ where: { vaultId, path }, include: { versions: { orderBy: { version: "asc" } } } });
  expect(secret!.currentVersion).toBe(first + results.length - 1);
  expect(secret!.versions.map((v) => v.version)).toEqual(Array.from({ length: first + results.length - 1 }, (_, i) => i + 1));
  expect(await s.rt.db.secret.count({ where: { vaultId, path } })).toBe(1);

  const last = results.findIndex((r) => r.body.version === secret!.currentVersion);
  const read = await client(s.url, token).get(`/v1/vaults/${vaultId}/secrets/${path}`);
  expect(read.status).toBe(200);
  expect(read.body.value).toBe(`w${last}`);
  const verify = await client(s.url, token).get("/v1/audit/verify");
  expect(verify.body.chain_valid).toBe(true);
}

describe(`${WRITERS} concurrent PUTs to one path (${testDialect})`, () => {
  it("first-ever writes of a brand-new path: all 201, versions 1..40 once each, one secret row", async () => {
    const { owner, vaultId } = await ownerWithVault(server);
    const api = client(server.url, owner.token);
    const results = await Promise.all(Array.from({ length: WRITERS }, (_, i) => api.put(`/v1/vaults/${vaultId}/secrets/fresh/path`, { value: `w${i}` })));
    await expectSerialised(server, owner.token, vaultId, "fresh/path", results, 1);
  });

  it("writes to an existing path: all 201, versions continue gaplessly", async () => {
    const { owner, vaultId } = await ownerWithVault(server);
    const api = client(server.url, owner.token);
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/hot`, { value: "seed" })).status).toBe(201);
    const results = await Promise.all(Array.from({ length: WRITERS }, (_, i) => api.put(`/v1/vaults/${vaultId}/secrets/hot`, { value: `w${i}` })));
    await expectSerialised(server, owner.token, vaultId, "hot", results, 2);
  });

  it("rotations and PUTs interleaved on one path: every one succeeds with its own version", async () => {
    const { owner, vaultId } = await ownerWithVault(server);
    const api = client(server.url, owner.token);
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/mixed`, { value: "seed" })).status).toBe(201);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? api.post(`/v1/vaults/${vaultId}/secret-rotate/mixed`, {}) : api.put(`/v1/vaults/${vaultId}/secrets/mixed`, { value: `w${i}` }))),
    );
    expect(results.map((r) => r.status)).toEqual(results.map(() => 201));
    expect(results.map((r) => r.body.version as number).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
  });
});

describe(`${WRITERS} concurrent PUTs to one path across two instances on one database (${testDialect})`, () => {
  it("first-ever writes split over both instances: all 201, versions 1..40 once each", async () => {
    const { owner, vaultId } = await ownerWithVault(twins.a);
    const a = client(twins.a.url, owner.token);
    const b = client(twins.b.url, owner.token);
    const results = await Promise.all(Array.from({ length: WRITERS }, (_, i) => (i % 2 ? a : b).put(`/v1/vaults/${vaultId}/secrets/twin/new`, { value: `w${i}` })));
    await expectSerialised(twins.a, owner.token, vaultId, "twin/new", results, 1);
  });

  it("writes to an existing path split over both instances: all 201, versions gapless", async () => {
    const { owner, vaultId } = await ownerWithVault(twins.a);
    const a = client(twins.a.url, owner.token);
    const b = client(twins.b.url, owner.token);
    expect((await a.put(`/v1/vaults/${vaultId}/secrets/twin/hot`, { value: "seed" })).status).toBe(201);
    const results = await Promise.all(Array.from({ length: WRITERS }, (_, i) => (i % 2 ? a : b).put(`/v1/vaults/${vaultId}/secrets/twin/hot`, { value: `w${i}` })));
    await expectSerialised(twins.a, owner.token, vaultId, "twin/hot", results, 2);
  });
});
