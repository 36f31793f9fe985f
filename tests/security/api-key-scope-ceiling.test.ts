import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * A personal key's `scopes` are secret-path patterns and a ceiling: the key, and every user token
 * exchanged from it, reaches only the paths they match — for reads, writes, listings, versions and
 * share creation — even where the user's own rights reach further. Empty scopes mean no ceiling;
 * stored scopes that are not valid patterns narrow to nothing, never widen.
 */
let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let vaultId: string;
let allowedId: string;
let otherId: string;

type Api = ReturnType<typeof client>;
const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();
const s = (path: string) => `/v1/vaults/${vaultId}/secrets/${path}`;

async function createKey(scopes?: string[]) {
  const res = await client(server.url, owner.token).post("/v1/auth/api-keys", { name: "scoped", ...(scopes ? { scopes } : {}) });
  if (res.status !== 201) throw new Error(`api key failed: ${res.status} ${res.text}`);
  return { id: res.body.key.id as string, key: res.body.api_key as string };
}

async function exchange(key: string): Promise<string> {
  const res = await client(server.url).post("/v1/auth/api-key-token", { api_key: key });
  if (res.status !== 200) throw new Error(`api-key-token failed: ${res.status} ${res.text}`);
  return res.body.access_token as string;
}

beforeAll(async () => {
  server = await startTestServer();
  owner = await signUpVerified(server);
  const api = client(server.url, owner.token);
  vaultId = (await api.post("/v1/vaults", { name: "scoped" })).body.id;
  allowedId = (await api.put(s("allowed/a"), { value: "allowed-value" })).body.id;
  otherId = (await api.put(s("other/b"), { value: "other-value" })).body.id;
});
afterAll(async () => {
  await server?.close();
});
// Share creation is limited per org per minute; that limit is another suite's subject.
beforeEach(async () => {
  await server.rt.db.rateCounter.deleteMany({ where: { key: { startsWith: "share-create:" } } });
});

/** Every secret and share operation, through `as`: in scope works, out of scope is 403 and changes nothing. */
async function expectCeiling(as: Api) {
  // Positive controls: inside the scope everything works.
  const read = await as.get(s("allowed/a"));
  expect(read.status).toBe(200);
  expect(read.body.value).toBe("allowed-value");
  expect((await as.put(s("allowed/new"), { value: "in-scope" })).status).toBe(201);
  expect((await as.get(`/v1/vaults/${vaultId}/secret-versions/allowed/a`)).status).toBe(200);
  expect((await as.post(`/v1/secrets/${allowedId}/share`, { recipient_type: "anyone_with_link", expires_at: inDays(1) })).status).toBe(201);

  // Outside it: refused, whatever the owner's own rights.
  expect((await as.get(s("other/b"))).status).toBe(403);
  expect((await as.put(s("other/b"), { value: "overwritten" })).status).toBe(403);
  expect((await as.put(s("other/created"), { value: "x" })).status).toBe(403);
  expect((await as.delete(s("other/b"))).status).toBe(403);
  expect((await as.get(`/v1/vaults/${vaultId}/secret-versions/other/b`)).status).toBe(403);
  expect((await as.post(`/v1/secrets/${otherId}/share`, { recipient_type: "anyone_with_link", expires_at: inDays(1) })).status).toBe(403);
  const list = await as.get(`/v1/vaults/${vaultId}/secrets`);
  expect(list.status).toBe(200);
  const paths = (list.body.secrets as { path: string }[]).map((x) => x.path);
  expect(paths).toContain("allowed/a");
  expect(paths.filter((p) => !p.startsWith("allowed/"))).toEqual([]);

  // Nothing changed outside the scope.
  const ownerView = client(server.url, owner.token);
  expect((await ownerView.get(s("other/b"))).body.value).toBe("other-value");
  expect((await ownerView.get(s("other/created"))).status).toBe(404);
}

describe("API key scopes are a path ceiling", () => {
  it("the key itself reaches only its scopes", async () => {
    const { key } = await createKey(["allowed/*"]);
    await expectCeiling(client(server.url, key));
  });

  it("a token exchanged from the key carries the same ceiling", async () => {
    const { key } = await createKey(["allowed/*"]);
    await expectCeiling(client(server.url, await exchange(key)));
  });

  it("a key without scopes keeps the user's full reach (positive control for the ceiling)", async () => {
    const { key } = await createKey();
    for (const as of [client(server.url, key), client(server.url, await exchange(key))]) {
      expect((await as.get(s("other/b"))).status).toBe(200);
      expect((await as.get(s("allowed/a"))).status).toBe(200);
    }
  });

  it("the key list shows the scopes", async () => {
    const { id } = await createKey(["allowed/*", "deploy/**"]);
    const listed = (await client(server.url, owner.token).get("/v1/auth/api-keys")).body.api_keys.find((k: { id: string }) => k.id === id);
    expect(listed.scopes).toEqual(["allowed/*", "deploy/**"]);
  });
});

describe("scopes are validated like policy patterns", () => {
  it.each([["a/../b"], ["a//b"], [""], ["/leading"], ["a/**b"], ["vaults:read"]])("refuses %j with a 400 naming scopes, creating nothing", async (bad) => {
    const before = await server.rt.db.apiKey.count();
    const res = await client(server.url, owner.token).post("/v1/auth/api-keys", { name: "bad", scopes: ["ok/*", bad] });
    expect(res.status).toBe(400);
    expect(res.body.fields.map((f: { field: string }) => f.field)).toContain("scopes");
    expect(await server.rt.db.apiKey.count()).toBe(before);
  });

  it("accepts valid patterns (positive control)", async () => {
    const res = await client(server.url, owner.token).post("/v1/auth/api-keys", { name: "good", scopes: ["ok/*", "deploy/**", "stripe-*"] });
    expect(res.status).toBe(201);
  });
});

describe("stored scopes that are not patterns fail closed", () => {
  it("an old row's scopes (e.g. vaults:read) match nothing, for the key and for a token minted before", async () => {
    const { id, key } = await createKey(["allowed/*"]);
    const token = await exchange(key);
    // Positive control: in scope before the row changes.
    expect((await client(server.url, key).get(s("allowed/a"))).status).toBe(200);
    expect((await client(server.url, token).get(s("allowed/a"))).status).toBe(200);

    await server.rt.db.apiKey.update({ where: { id }, data: { scopes: JSON.stringify(["vaults:read", "**/..", "secrets:*"]) } });
    for (const as of [client(server.url, key), client(server.url, token)]) {
      expect((await as.get(s("allowed/a"))).status).toBe(403);
      expect((await as.get(s("other/b"))).status).toBe(403);
      const list = await as.get(`/v1/vaults/${vaultId}/secrets`);
      expect(list.status === 403 || list.body.secrets.length === 0).toBe(true);
    }

    await server.rt.db.apiKey.update({ where: { id }, data: { scopes: "not json" } });
    expect((await client(server.url, key).get(s("allowed/a"))).status).toBe(403);
    expect((await client(server.url, token).get(s("allowed/a"))).status).toBe(403);
  });

  it("a token follows the key's scopes as they are now, never wider than the key", async () => {
    const { id, key } = await createKey(["**"]);
    const token = await exchange(key);
    expect((await client(server.url, token).get(s("other/b"))).status).toBe(200);
    await server.rt.db.apiKey.update({ where: { id }, data: { scopes: JSON.stringify(["allowed/*"]) } });
    expect((await client(server.url, token).get(s("other/b"))).status).toBe(403);
    expect((await client(server.url, token).get(s("allowed/a"))).status).toBe(200);
  });
});
