import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient, type TalonClient } from "../../lib/sdk";
import { signUpVerified, uniqueEmail } from "../helpers/accounts";
import { startTestServer, type TestServer } from "../helpers/server";
import { countingFetch, UUID_RE } from "./helpers";

let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let sdk: TalonClient;

beforeAll(async () => {
  server = await startTestServer();
  owner = await signUpVerified(server);
  sdk = createClient({ baseUrl: server.url, token: owner.token });
});
afterAll(async () => server?.close());

describe("SDK: response shape", () => {
  test("success: data, error null, meta with status and the X-Request-Id", async () => {
    const r = await sdk.vaults.create({ name: "shape-ok", description: "d" });
    expect(r.error).toBeNull();
    expect(r.data).toMatchObject({ name: "shape-ok", description: "d", created_by: owner.userId, created_by_type: "user" });
    expect(r.meta.status).toBe(201);
    expect(r.meta.requestId).toMatch(UUID_RE);
  });

  test("HTTP error: data null, error {type, message, detail} from the problem body; never throws", async () => {
    const r = await sdk.vaults.create({ name: "shape-ok" });
    expect(r.data).toBeNull();
    expect(r.meta.status).toBe(409);
    expect(r.meta.requestId).toMatch(UUID_RE);
    expect(r.error).toEqual({ type: "conflict", message: "Conflict", detail: expect.stringMatching(/shape-ok|exists|already/i) });

    const bad = await sdk.vaults.create({ name: "" });
    expect(bad.meta.status).toBe(400);
    expect(bad.error).toMatchObject({ type: "bad_request", fields: [expect.objectContaining({ field: "name" })] });

    const missing = await sdk.vaults.get("00000000-0000-4000-8000-000000000000");
    expect(missing.error).toMatchObject({ type: "not_found", message: "Not Found" });
  });

  test("a network failure is an error value (status 0), and misuse throws", async () => {
    const dead = createClient({ baseUrl: "http://127.0.0.1:9", token: "x" });
    const r = await dead.vaults.list();
    expect(r).toMatchObject({ data: null, error: { type: "network_error" }, meta: { status: 0, requestId: null } });
    expect(() => createClient({ baseUrl: "" })).toThrow(TypeError);
    expect(() => createClient({ baseUrl: "ftp://x" })).toThrow(TypeError);
    expect(() => createClient({ baseUrl: server.url, agentId: owner.userId })).toThrow(/apiKey/);
  });
});

describe("SDK: vaults and secrets", () => {
  let vaultId: string;
  beforeAll(async () => {
    vaultId = (await sdk.vaults.create({ name: "sdk-secrets" })).data!.id;
  });

  test("vaults get/list/delete", async () => {
    const v = await sdk.vaults.create({ name: "to-delete" });
    expect((await sdk.vaults.get(v.data!.id)).data?.name).toBe("to-delete");
    expect((await sdk.vaults.list()).data?.vaults.map((x) => x.name)).toEqual(expect.arrayContaining(["to-delete", "sdk-secrets"]));
    const del = await sdk.vaults.delete(v.data!.id);
    expect(del).toMatchObject({ data: null, error: null, meta: { status: 204 } });
    expect((await sdk.vaults.get(v.data!.id)).meta.status).toBe(404);
  });

  test("set/get/list/versions/rotate/rotateGenerate/getVersion/disableVersion/delete, with '/' in paths", async () => {
    const put = await sdk.secrets.set(vaultId, "api-keys/stripe", "sk_v1", { type: "api_key", metadata: { env: "prod" } });
    expect(put.meta.status).toBe(201);
    expect(put.data).toMatchObject({ path: "api-keys/stripe", type: "api_key", version: 1 });
    expect(put.data).not.toHaveProperty("value");

    const got = await sdk.secrets.get(vaultId, "api-keys/stripe");
    expect(got.data).toMatchObject({ path: "api-keys/stripe", value: "sk_v1", version: 1, type: "api_key" });

    await sdk.secrets.set(vaultId, "db/password", "pw");
    expect((await sdk.secrets.list(vaultId)).data?.secrets.map((s) => s.path).sort()).toEqual(["api-keys/stripe", "db/password"]);
    expect((await sdk.secrets.list(vaultId, "api-keys/")).data?.secrets.map((s) => s.path)).toEqual(["api-keys/stripe"]);

    // rotate keeps the type and metadata of the current version (a plain PUT would default to generic).
    const rotated = await sdk.secrets.rotate(vaultId, "api-keys/stripe", "sk_v2");
    expect(rotated.data).toMatchObject({ version: 2, type: "api_key", metadata: { env: "prod" } });
    expect((await sdk.secrets.get(vaultId, "api-keys/stripe")).data?.value).toBe("sk_v2");

    const generated = await sdk.secrets.rotateGenerate(vaultId, "api-keys/stripe", { length: 40, charset: "hex" });
    expect(generated.meta.status).toBe(201);
    expect(generated.data?.value).toMatch(/^[0-9a-f]{40}$/);
    expect(generated.data?.version).toBe(3);

    const versions = await sdk.secrets.versions(vaultId, "api-keys/stripe");
    expect(versions.data?.versions.map((v) => v.version).sort()).toEqual([1, 2, 3]);
    expect((await sdk.secrets.getVersion(vaultId, "api-keys/stripe", 1)).data?.value).toBe("sk_v1");
    expect((await sdk.secrets.disableVersion(vaultId, "api-keys/stripe", 1)).meta.status).toBe(204);
    expect((await sdk.secrets.getVersion(vaultId, "api-keys/stripe", 1)).error?.type).toBe("gone");

    expect((await sdk.secrets.delete(vaultId, "db/password")).meta.status).toBe(204);
    expect([404, 410]).toContain((await sdk.secrets.get(vaultId, "db/password")).meta.status);
    const missing = await sdk.secrets.rotate(vaultId, "no/such", "x");
    expect(missing.meta.status).toBe(404);
  });

  test("path segments are percent-encoded one by one; a '..' segment is refused before any request", async () => {
    const calls = countingFetch();
    const c = createClient({ baseUrl: server.url, token: owner.token, fetch: calls.fetch });
    // URL parsing would fold this into `db/password`: the SDK must not read another secret.
    for (const bad of ["api-keys/../db/password", "a/./b", "a//b", ""]) {
      const r = await c.secrets.get(vaultId, bad);
      expect(r).toMatchObject({ data: null, error: { type: "bad_request", fields: [{ field: "path" }] }, meta: { status: 0 } });
    }
    expect(calls.calls).toEqual([]);
    const odd = await c.secrets.get(vaultId, "a b/c?d#e");
    expect(calls.calls).toEqual([`GET /v1/vaults/${vaultId}/secrets/a%20b/c%3Fd%23e`]);
    expect(odd.meta.status).toBe(400);
  });
});

describe("SDK: auth and apiKeys", () => {
  test("login adopts the token; logout revokes it (the next call answers 401, no retry)", async () => {
    const calls = countingFetch();
    const c = createClient({ baseUrl: server.url, fetch: calls.fetch });
    expect((await c.auth.me()).meta.status).toBe(401);
    const bad = await c.auth.login({ email: owner.email, password: "wrong-password-123" });
    expect(bad.error?.type).toBe("unauthorized");
    const login = await c.auth.login({ email: owner.email, password: owner.password });
    expect(login.data).toMatchObject({ token_type: "Bearer", access_token: expect.any(String), refresh_token: expect.any(String) });
    expect((await c.auth.me()).data?.email).toBe(owner.email);
    expect((await c.auth.logout()).meta.status).toBe(204);
    calls.reset();
    expect((await c.auth.me()).meta.status).toBe(401);
    expect(calls.calls).toEqual(["GET /v1/auth/me"]);
  });

  test("a user client with a refresh token renews an expired access token once, and reports the new pair", async () => {
    const login = await createClient({ baseUrl: server.url }).auth.login({ email: owner.email, password: owner.password });
    const pair = login.data as { access_token: string; refresh_token: string };
    const seen: string[] = [];
    const calls = countingFetch();
    const c = createClient({
      baseUrl: server.url,
      token: pair.access_token,
      refreshToken: pair.refresh_token,
      tokenExpiresAt: Date.now() - 1,
      onTokens: (t) => seen.push(t.access_token),
      fetch: calls.fetch,
    });
    const [a, b] = await Promise.all([c.auth.me(), c.vaults.list()]);
    expect([a.meta.status, b.meta.status]).toEqual([200, 200]);
    expect(calls.count("POST /v1/auth/refresh")).toBe(1);
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toBe(pair.access_token);
  });

  test("apiKeys create/list/revoke; a 1ck_ key is sent directly as Bearer", async () => {
    const created = await sdk.apiKeys.create({ name: "sdk-test" });
    expect(created.meta.status).toBe(201);
    const key = created.data!.api_key;
    expect(key).toMatch(/^1ck_/);
    expect((await sdk.apiKeys.list()).data?.api_keys.map((k) => k.name)).toContain("sdk-test");

    const calls = countingFetch();
    const byKey = createClient({ baseUrl: server.url, apiKey: key, fetch: calls.fetch });
    expect((await byKey.auth.me()).data?.id).toBe(owner.userId);
    expect(calls.calls).toEqual(["GET /v1/auth/me"]);

    expect((await sdk.apiKeys.revoke(created.data!.key.id)).meta.status).toBe(204);
    expect((await byKey.auth.me()).error?.type).toBe("unauthorized");
  });

  test("signup and verifyEmail are public calls; me/updateMe work on the adopted token", async () => {
    const c = createClient({ baseUrl: server.url });
    const r = await c.auth.signup({ email: uniqueEmail("sdk"), password: "a-long-password-1" });
    expect(r.meta.status).toBe(201);
    expect((await c.auth.verifyEmail("not-a-real-token")).meta.status).toBe(400);
    const updated = await sdk.auth.updateMe({ display_name: "Ada SDK" });
    expect(updated.data?.display_name).toBe("Ada SDK");
    expect((await sdk.auth.mfaStatus()).data).toMatchObject({ enabled: false });
  });
});

describe("SDK: org", () => {
  test("listMembers, updateMemberRole and removeMember answer through the same shape", async () => {
    const members = await sdk.org.listMembers();
    expect(members.data?.members.map((m) => m.id)).toContain(owner.userId);
    const unknown = "00000000-0000-4000-8000-000000000000";
    expect((await sdk.org.updateMemberRole(unknown, "admin")).meta.status).toBe(404);
    expect((await sdk.org.removeMember(unknown)).meta.status).toBe(404);
    const invite = await sdk.org.invite({ email: uniqueEmail("invitee") });
    expect(invite.meta.status).toBe(201);
    expect((await sdk.org.listInvitations()).data?.invitations.map((i) => i.id)).toContain(invite.data!.id);
    expect((await sdk.org.revokeInvitation(invite.data!.id)).meta.status).toBe(204);
  });
});
