import { request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
let api: ReturnType<typeof client>;
let userId: string;
let vaultId: string;
const s = (path: string) => `/v1/vaults/${vaultId}/secrets/${path}`;
let token: string;
const fieldsOf = (body: { fields?: { field: string }[] }) => (body.fields ?? []).map((f) => f.field);

/** An HTTP request whose path goes out exactly as written (no URL normalisation). */
function raw(method: string, path: string, body?: unknown): Promise<{ status: number; body: { fields?: { field: string }[] } }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) } }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
    });
    req.on("error", reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

beforeAll(async () => {
  server = await startTestServer();
  const account = await signUpVerified(server);
  userId = account.userId;
  token = account.token;
  api = client(server.url, account.token);
  vaultId = (await api.post("/v1/vaults", { name: "secrets-test" })).body.id;
});
afterAll(async () => {
  await server?.close();
});

describe("secrets CRUD", () => {
  it("stores version 1 and reads it back, with no value in the write response", async () => {
    const put = await api.put(s("api-keys/stripe"), { value: "sk_live_abc", type: "api_key", metadata: { env: "prod" } });
    expect(put.status).toBe(201);
    expect(put.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      path: "api-keys/stripe",
      type: "api_key",
      version: 1,
      metadata: { env: "prod" },
      created_by: `user:${userId}`,
      created_at: expect.any(String),
      expires_at: null,
      max_access_count: 0,
      cmek_encrypted: false,
    });

    const get = await api.get(s("api-keys/stripe"));
    expect(get.status).toBe(200);
    expect(get.headers.get("cache-control")).toBe("no-store");
    expect(get.body).toEqual({ ...put.body, value: "sk_live_abc", access_count: 0 });
    // The same path, percent-encoded slashes.
    expect((await api.get(s("api-keys%2Fstripe"))).body.value).toBe("sk_live_abc");
  });

  it("defaults the type to generic and makes every PUT version n+1", async () => {
    expect((await api.put(s("multi"), { value: "one" })).body).toMatchObject({ version: 1, type: "generic" });
    expect((await api.put(s("multi"), { value: "two", type: "password" })).body).toMatchObject({ version: 2, type: "password" });
    const get = await api.get(s("multi"));
    expect(get.body).toMatchObject({ value: "two", version: 2, type: "password" });
  });

  it("audits reads and writes without the value", async () => {
    const value = `audit-canary-${Date.now()}`;
    const put = await api.put(s("audited"), { value });
    expect((await api.get(s("audited"))).status).toBe(200);
    const events = await server.rt.db.auditEvent.findMany({ where: { resourceId: put.body.id } });
    expect(events.map((e) => e.action).sort()).toEqual(["secret.read", "secret.write"]);
    for (const e of events) {
      expect(e.details).not.toContain(value);
      expect(JSON.parse(e.details)).toMatchObject({ path: "audited", version: 1 });
    }
  });

  it("soft-deletes: 410 on read, gone from the list, restored by the next PUT", async () => {
    await api.put(s("to-delete"), { value: "v1" });
    const del = await api.delete(s("to-delete"));
    expect(del.status).toBe(204);
    const read = await api.get(s("to-delete"));
    expect(read.status).toBe(410);
    expect(read.body.detail).toMatch(/deleted/i);
    expect((await api.delete(s("to-delete"))).status).toBe(410);
    const list = await api.get(`/v1/vaults/${vaultId}/secrets`);
    expect(list.body.secrets.map((x: { path: string }) => x.path)).not.toContain("to-delete");
    expect(await server.rt.db.auditEvent.count({ where: { action: "secret.delete" } })).toBe(1);

    const restored = await api.put(s("to-delete"), { value: "v2" });
    expect(restored.status).toBe(201);
    expect(restored.body.version).toBe(2);
    expect((await api.get(s("to-delete"))).body).toMatchObject({ value: "v2", version: 2 });
  });

  it("404s an unknown secret and an unknown vault", async () => {
    expect((await api.get(s("nope"))).status).toBe(404);
    expect((await api.delete(s("nope"))).status).toBe(404);
    const other = "/v1/vaults/00000000-0000-4000-8000-000000000000/secrets/x";
    expect((await api.get(other)).status).toBe(404);
    expect((await api.put(other, { value: "v" })).status).toBe(404);
    expect((await api.get("/v1/vaults/00000000-0000-4000-8000-000000000000/secrets")).status).toBe(404);
  });
});

describe("versions, disable, rotate", () => {
  it("lists versions and reads an old one; a disabled version is 410", async () => {
    await api.put(s("db/main"), { value: "first", metadata: { n: 1 } });
    await api.put(s("db/main"), { value: "second", type: "password" });
    const versions = await api.get(`/v1/vaults/${vaultId}/secret-versions/db/main`);
    expect(versions.status).toBe(200);
    expect(versions.body.versions).toEqual([
      { version: 1, type: "generic", metadata: { n: 1 }, created_at: expect.any(String), created_by: `user:${userId}`, expires_at: null, is_disabled: false },
      { version: 2, type: "password", metadata: {}, created_at: expect.any(String), created_by: `user:${userId}`, expires_at: null, is_disabled: false },
    ]);
    expect(versions.text).not.toContain("first");

    const v1 = await api.get(`/v1/vaults/${vaultId}/secret-version/db/main/1`);
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject({ path: "db/main", value: "first", version: 1, type: "generic" });
    expect((await api.get(`/v1/vaults/${vaultId}/secret-version/db/main/3`)).status).toBe(404);
    const zero = await api.get(`/v1/vaults/${vaultId}/secret-version/db/main/0`);
    expect(zero.status).toBe(400);
    expect(fieldsOf(zero.body)).toEqual(["version"]);

    expect((await api.post(`/v1/vaults/${vaultId}/secret-version-disable/db/main/2`)).status).toBe(204);
    const current = await api.get(s("db/main"));
    expect(current.status).toBe(410);
    expect(current.body.detail).toMatch(/disabled/);
    expect((await api.get(`/v1/vaults/${vaultId}/secret-version/db/main/2`)).status).toBe(410);
    expect((await api.get(`/v1/vaults/${vaultId}/secret-version/db/main/1`)).body.value).toBe("first");
    expect((await api.get(`/v1/vaults/${vaultId}/secret-versions/db/main`)).body.versions[1].is_disabled).toBe(true);
    expect((await api.post(`/v1/vaults/${vaultId}/secret-version-disable/db/main/9`)).status).toBe(404);
    expect(await server.rt.db.auditEvent.count({ where: { action: "secret.version_disable" } })).toBe(1);
  });

  it("rotates to a server-generated value, returned once and readable after", async () => {
    await api.put(s("rot/key"), { value: "old", type: "api_key", metadata: { owner: "ops" }, max_access_count: 9 });
    const rotated = await api.post(`/v1/vaults/${vaultId}/secret-rotate/rot/key`);
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ path: "rot/key", version: 2, type: "api_key", metadata: { owner: "ops" }, max_access_count: 0, cmek_encrypted: false });
    expect(rotated.body.value).toMatch(/^[A-Za-z0-9]{32}$/);
    expect((await api.get(s("rot/key"))).body).toMatchObject({ value: rotated.body.value, version: 2 });

    const patterns = { hex: /^[0-9a-f]{64}$/, base64: /^[A-Za-z0-9+/]{64}$/, alphanumeric: /^[A-Za-z0-9]{64}$/, ascii: /^[\x21-\x7e]{64}$/ };
    for (const [charset, re] of Object.entries(patterns)) {
      const r = await api.post(`/v1/vaults/${vaultId}/secret-rotate/rot/key`, { length: 64, charset });
      expect(r.status).toBe(201);
      expect(r.body.value).toMatch(re);
    }
    expect((await api.post(`/v1/vaults/${vaultId}/secret-rotate/rot/key`, { length: 7 })).status).toBe(400);
    expect((await api.post(`/v1/vaults/${vaultId}/secret-rotate/rot/key`, { length: 1025 })).status).toBe(400);
    expect((await api.post(`/v1/vaults/${vaultId}/secret-rotate/rot/key`, { charset: "emoji" })).status).toBe(400);
    expect((await api.post(`/v1/vaults/${vaultId}/secret-rotate/rot/missing`)).status).toBe(404);

    const events = await server.rt.db.auditEvent.findMany({ where: { action: "secret.rotate" } });
    expect(events).toHaveLength(5);
    expect(events.some((e) => e.details.includes(rotated.body.value))).toBe(false);
  });
});

describe("expiry and access limits", () => {
  it("answers 410 once expires_at has passed", async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const put = await api.put(s("short-lived"), { value: "tick", expires_at: expiresAt });
    expect(put.status).toBe(201);
    expect(put.body.expires_at).toBe(expiresAt);
    expect((await api.get(s("short-lived"))).status).toBe(200);
    await sleep(Date.parse(expiresAt) - Date.now() + 100);
    const gone = await api.get(s("short-lived"));
    expect(gone.status).toBe(410);
    expect(gone.body.detail).toMatch(/expired/);
    expect(gone.text).not.toContain("tick");
  });

  it("refuses an expiry in the past", async () => {
    const res = await api.put(s("past"), { value: "x", expires_at: new Date(Date.now() - 1000).toISOString() });
    expect(res.status).toBe(400);
    expect(fieldsOf(res.body)).toEqual(["expires_at"]);
  });

  it("stops at max_access_count", async () => {
    await api.put(s("twice"), { value: "limited", max_access_count: 2 });
    expect((await api.get(s("twice"))).body).toMatchObject({ value: "limited", access_count: 1, max_access_count: 2 });
    expect((await api.get(s("twice"))).body.access_count).toBe(2);
    const third = await api.get(s("twice"));
    expect(third.status).toBe(410);
    expect(third.body.detail).toMatch(/max_access_count/);
    // A new version has its own counter.
    await api.put(s("twice"), { value: "fresh", max_access_count: 1 });
    expect((await api.get(s("twice"))).body).toMatchObject({ value: "fresh", access_count: 1 });
  });
});

describe("listing", () => {
  it("lists the latest version per path under a prefix, never values", async () => {
    const list = client(server.url, (await signUpVerified(server)).token);
    const vid = (await list.post("/v1/vaults", { name: "listing" })).body.id;
    for (const p of ["api-keys/openai", "api-keys/stripe", "API-KEYS/upper", "api_keys/x", "db/main"]) {
      expect((await list.put(`/v1/vaults/${vid}/secrets/${p}`, { value: `value-of-${p}` })).status).toBe(201);
    }
    await list.put(`/v1/vaults/${vid}/secrets/api-keys/openai`, { value: "newer", type: "api_key" });

    const all = await list.get(`/v1/vaults/${vid}/secrets`);
    expect(all.status).toBe(200);
    expect(all.body.secrets).toHaveLength(5);
    expect(all.text).not.toContain("value-of-");

    const some = await list.get(`/v1/vaults/${vid}/secrets?prefix=api-keys/`);
    expect(some.body.secrets.map((x: { path: string }) => x.path)).toEqual(["api-keys/openai", "api-keys/stripe"]);
    expect(some.body.secrets[0]).toEqual({
      id: expect.any(String),
      path: "api-keys/openai",
      type: "api_key",
      version: 2,
      metadata: {},
      created_at: expect.any(String),
      expires_at: null,
      max_access_count: 0,
    });
    expect((await list.get(`/v1/vaults/${vid}/secrets?prefix=api_`)).body.secrets.map((x: { path: string }) => x.path)).toEqual(["api_keys/x"]);
    expect((await list.get(`/v1/vaults/${vid}/secrets?prefix=%25`)).status).toBe(400);
    expect((await list.get(`/v1/vaults/${vid}/secrets?prefix=${"a".repeat(513)}`)).status).toBe(400);
  });
});

describe("input rules", () => {
  it("rejects bad paths with 400 naming path, on every route", async () => {
    // Sent byte for byte. A bare `.`/`..` segment (or `%2E`) is resolved by URL parsing before any
    // route sees it, so dots reach the path parameter only inside an encoded segment like these.
    const bad = ["a//b", "%2E%2E%2Fx", ".%2Fx", "a%2F.", "a%2F..%2Fb", "p".repeat(513), "-x", "x-", "a%20b", "a%00b"];
    for (const p of bad) {
      for (const [method, url] of [
        ["GET", s(p)],
        ["PUT", s(p)],
        ["DELETE", s(p)],
        ["GET", `/v1/vaults/${vaultId}/secret-versions/${p}`],
        ["POST", `/v1/vaults/${vaultId}/secret-rotate/${p}`],
        ["GET", `/v1/vaults/${vaultId}/secret-version/${p}/1`],
        ["POST", `/v1/vaults/${vaultId}/secret-version-disable/${p}/1`],
      ] as const) {
        const res = await raw(method, url, method === "PUT" ? { value: "v" } : method === "POST" ? {} : undefined);
        expect(res.status, `${method} ${url}`).toBe(400);
        expect(fieldsOf(res.body), `${method} ${url}`).toContain("path");
      }
    }
    expect((await api.put(s("p".repeat(512)), { value: "v" })).status).toBe(201);
    expect((await raw("GET", s("p".repeat(512)))).status).toBe(200);
  });

  it("validates the body strictly", async () => {
    const unknown = await api.put(s("strict"), { value: "v", colour: "red" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.fields).toEqual([{ field: "colour", message: "unknown field" }]);
    expect(fieldsOf((await api.put(s("strict"), { type: "generic" })).body)).toEqual(["value"]);
    expect(fieldsOf((await api.put(s("strict"), { value: "v", type: "banana" })).body)).toEqual(["type"]);
    expect(fieldsOf((await api.put(s("strict"), { value: "v", max_access_count: -1 })).body)).toEqual(["max_access_count"]);
    expect(fieldsOf((await api.put(s("strict"), { value: "v", max_access_count: 1.5 })).body)).toEqual(["max_access_count"]);
    expect(fieldsOf((await api.put(s("strict"), { value: "v", metadata: { big: "m".repeat(8200) } })).body)).toEqual(["metadata"]);
    expect(fieldsOf((await api.put(s("strict"), { value: "v".repeat(48 * 1024 + 1) })).body)).toEqual(["value"]);
    expect((await api.put(s("strict"), { value: "é".repeat(24 * 1024 + 1) })).status).toBe(400); // 48 KiB + 2 bytes in UTF-8
    expect((await api.put(s("strict"), { value: "v".repeat(48 * 1024) })).status).toBe(201);
    const huge = await api.put(s("strict"), { value: "v".repeat(70 * 1024) });
    expect(huge.status).toBe(413);
    expect(huge.text).not.toContain("vvvv");
  });
});

describe("concurrent writes", () => {
  it("never duplicates a version and never answers 500", async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => api.put(s("contended"), { value: `w${i}` })));
    const statuses = results.map((r) => r.status);
    expect(statuses.every((st) => st === 201 || st === 409)).toBe(true);
    const versions = results.filter((r) => r.status === 201).map((r) => r.body.version as number);
    expect(new Set(versions).size).toBe(versions.length);
    expect(versions.length).toBeGreaterThanOrEqual(2);
    const secret = await server.rt.db.secret.findFirst({ where: { vaultId, path: "contended" }, include: { versions: true } });
    expect(secret!.versions).toHaveLength(versions.length);
    expect(secret!.currentVersion).toBe(Math.max(...versions));
    const winner = results.find((r) => r.body?.version === secret!.currentVersion)!;
    const read = await api.get(s("contended"));
    expect(read.body.value).toBe(`w${results.indexOf(winner)}`);
  });
});
