import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, grant, NO_RATE_LIMITS, utcClock, withoutRequestId } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * The access decision on secret paths: org → vault binding → token scopes → policies → owner bypass,
 * deny by default. Every 403 is paired with the same agent succeeding where it should, so the 403 is
 * the boundary and not a broken setup.
 */
let server: TestServer;
let owner: ReturnType<typeof client>;
let ownerToken: string;
let vault: string;
let otherVault: string;
const MISSING_VAULT = "00000000-0000-4000-8000-000000000000";

const secretUrl = (v: string, path: string) => `/v1/vaults/${v}/secrets/${path}`;
const newAgent = (opts?: Parameters<typeof addAgent>[2]) => addAgent(server, ownerToken, opts);
/** The vault ids of a listing, without the org's managed `__agent-keys` vault (created with the first agent). */
const vaultIdsOf = (body: { vaults: { id: string; name: string }[] }) => body.vaults.filter((v) => v.name !== "__agent-keys").map((v) => v.id);

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  const acct = await signUpVerified(server);
  owner = client(server.url, acct.token);
  ownerToken = acct.token;
  vault = (await owner.post("/v1/vaults", { name: "prod" })).body.id;
  otherVault = (await owner.post("/v1/vaults", { name: "staging" })).body.id;
  const puts: [string, string, string][] = [
    ["api-keys/stripe", "sk_live_stripe", "api_key"],
    ["api-keys/a/b", "nested-value", "api_key"],
    ["db/x", "db-x-value", "password"],
    ["db/deep/er/y", "deep-value", "password"],
    ["keys/signer", "0xprivate", "private_key"],
    ["keys/ssh", "ssh-private", "ssh_key"],
    ["keys/api", "plain-api-key", "api_key"],
  ];
  for (const [path, value, type] of puts) expect((await owner.put(secretUrl(vault, path), { value, type })).status).toBe(201);
  expect((await owner.put(secretUrl(otherVault, "api-keys/stripe"), { value: "staging-stripe" })).status).toBe(201);
});
afterAll(async () => {
  await server?.close();
});

describe("deny by default", () => {
  it("an agent without a policy gets 403 everywhere in the vault; a grant makes the same requests succeed", async () => {
    const { agentId, api } = await newAgent();
    const read = await api.get(secretUrl(vault, "api-keys/stripe"));
    expect(read.status).toBe(403);
    expect(read.body.detail).toMatch(/No policy grants you read access.*Ask a human to grant access with a policy/);
    expect(read.text).not.toContain("sk_live_stripe");
    expect((await api.put(secretUrl(vault, "scratch/first"), { value: "x" })).status).toBe(403);
    expect((await api.delete(secretUrl(vault, "db/x"))).status).toBe(403);
    expect((await api.get(`/v1/vaults/${vault}/secrets`)).status).toBe(403);
    expect((await api.get(`/v1/vaults/${vault}`)).status).toBe(403);
    expect((await api.get("/v1/vaults")).body.vaults).toEqual([]);

    await grant(owner, vault, { principal_type: "agent", principal_id: agentId, permissions: ["read", "write"] });
    const ok = await api.get(secretUrl(vault, "api-keys/stripe"));
    expect(ok.status).toBe(200);
    expect(ok.body.value).toBe("sk_live_stripe");
    expect((await api.put(secretUrl(vault, "scratch/first"), { value: "x" })).status).toBe(201);
    expect((await api.get(`/v1/vaults/${vault}`)).status).toBe(200);
    expect((await api.get("/v1/vaults")).body.vaults.map((v: { id: string }) => v.id)).toEqual([vault]);
  });
});

describe("path globs", () => {
  it("api-keys/* allows api-keys/stripe but not api-keys/a/b or db/x", async () => {
    const { agentId, api } = await newAgent();
    await grant(owner, vault, { principal_type: "agent", principal_id: agentId, secret_path_pattern: "api-keys/*", permissions: ["read"] });
    expect((await api.get(secretUrl(vault, "api-keys/stripe"))).status).toBe(200);
    expect((await api.get(secretUrl(vault, "api-keys/a/b"))).status).toBe(403);
    expect((await api.get(secretUrl(vault, "db/x"))).status).toBe(403);
  });

  it("db/** matches at any depth and nothing outside db/", async () => {
    const { agentId, api } = await newAgent();
    await grant(owner, vault, { principal_type: "agent", principal_id: agentId, secret_path_pattern: "db/**" });
    expect((await api.get(secretUrl(vault, "db/x"))).body.value).toBe("db-x-value");
    expect((await api.get(secretUrl(vault, "db/deep/er/y"))).body.value).toBe("deep-value");
    expect((await api.get(secretUrl(vault, "api-keys/stripe"))).status).toBe(403);
  });
});

describe("effects and permissions", () => {
  it("a matching deny beats every allow; removing it restores access", async () => {
    const { agentId, api } = await newAgent();
    await grant(owner, vault, { principal_type: "agent", principal_id: agentId, secret_path_pattern: "**", permissions: ["read"] });
    const deny = await grant(owner, vault, { principal_type: "agent", principal_id: agentId, secret_path_pattern: "api-keys/*", effect: "deny", priority: 0 });
    const denied = await api.get(secretUrl(vault, "api-keys/stripe"));
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toMatch(/A policy denies you read access/);
    expect((await api.get(secretUrl(vault, "db/x"))).status).toBe(200);
    expect((await owner.delete(`/v1/vaults/${vault}/policies/${deny.id}`)).status).toBe(204);
    expect((await api.get(secretUrl(vault, "api-keys/stripe"))).status).toBe(200);
  });

  it("read does not allow writing or deleting; write does, and delete needs write", async () => {
    const reader = await newAgent();
    await grant(owner, vault, { principal_type: "agent", principal_id: reader.agentId, secret_path_pattern: "scratch/**", permissions: ["read"] });
    const writer = await newAgent();
    await grant(owner, vault, { principal_type: "agent", principal_id: writer.agentId, secret_path_pattern: "scratch/**", permissions: ["write"] });

    expect((await reader.api.put(secretUrl(vault, "scratch/a"), { value: "by-reader" })).status).toBe(403);
    expect((await writer.api.put(secretUrl(vault, "scratch/a"), { value: "by-writer" })).status).toBe(201);
    expect((await writer.api.post(`/v1/vaults/${vault}/secret-rotate/scratch/a`, {})).status).toBe(201);
    expect((await reader.api.post(`/v1/vaults/${vault}/secret-rotate/scratch/a`, {})).status).toBe(403);
    expect((await reader.api.post(`/v1/vaults/${vault}/secret-version-disable/scratch/a/1`, {})).status).toBe(403);
    // Write-only cannot read.
    expect((await writer.api.get(secretUrl(vault, "scratch/a"))).status).toBe(403);
    expect((await reader.api.get(secretUrl(vault, "scratch/a"))).status).toBe(200);
    expect((await reader.api.get(`/v1/vaults/${vault}/secret-versions/scratch/a`)).body.versions).toHaveLength(2);

    expect((await reader.api.delete(secretUrl(vault, "scratch/a"))).status).toBe(403);
    expect((await writer.api.delete(secretUrl(vault, "scratch/a"))).status).toBe(204);
    expect((await reader.api.get(secretUrl(vault, "scratch/a"))).status).toBe(410);
  });

  it("an expired policy grants nothing", async () => {
    const { agentId, api } = await newAgent();
    const p = await grant(owner, vault, { principal_type: "agent", principal_id: agentId, expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await api.get(secretUrl(vault, "db/x"))).status).toBe(200);
    await server.rt.db.policy.update({ where: { id: p.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await api.get(secretUrl(vault, "db/x"))).status).toBe(403);
    expect((await api.get("/v1/vaults")).body.vaults).toEqual([]);
  });
});

describe("conditions", () => {
  it("ip_allowlist: 127.0.0.0/8 lets the loopback client in, 10.0.0.0/8 keeps it out", async () => {
    const { agentId, api } = await newAgent();
    const p = await grant(owner, vault, { principal_type: "agent", principal_id: agentId, conditions: { ip_allowlist: ["10.0.0.0/8", "2001:db8::/32"] } });
    expect((await api.get(secretUrl(vault, "db/x"))).status).toBe(403);
    const upd = await owner.put(`/v1/vaults/${vault}/policies/${p.id}`, { conditions: { ip_allowlist: ["127.0.0.0/8"] } });
    expect(upd.status).toBe(200);
    expect(upd.body.conditions).toEqual({ ip_allowlist: ["127.0.0.0/8"] });
    expect((await api.get(secretUrl(vault, "db/x"))).status).toBe(200);
  });

  it("time_window: a window around now allows, one that excludes now does not", async () => {
    const { agentId, api } = await newAgent();
    const outside = { after: utcClock(120), before: utcClock(180), timezone: "UTC" };
    const p = await grant(owner, vault, { principal_type: "agent", principal_id: agentId, conditions: { time_window: outside } });
    expect((await api.get(secretUrl(vault, "db/x"))).status).toBe(403);
    const inside = { after: utcClock(-60), before: utcClock(60), timezone: "UTC" };
    expect((await owner.put(`/v1/vaults/${vault}/policies/${p.id}`, { conditions: { time_window: inside } })).status).toBe(200);
    expect((await api.get(secretUrl(vault, "db/x"))).status).toBe(200);
  });
});

describe("vault binding and token scopes", () => {
  it("an agent bound to one vault gets 403 in another, even with a policy there", async () => {
    const { agentId, api } = await newAgent({ vaultIds: [otherVault] });
    await grant(owner, vault, { principal_type: "agent", principal_id: agentId });
    await grant(owner, otherVault, { principal_type: "agent", principal_id: agentId });
    const res = await api.get(secretUrl(vault, "api-keys/stripe"));
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/bound to other vaults/);
    expect((await api.get(`/v1/vaults/${vault}/secrets`)).status).toBe(403);
    expect((await api.get(secretUrl(otherVault, "api-keys/stripe"))).body.value).toBe("staging-stripe");
    expect((await api.get("/v1/vaults")).body.vaults.map((v: { id: string }) => v.id)).toEqual([otherVault]);
  });

  it("token scopes are a ceiling over policies", async () => {
    const { agentId, api } = await newAgent({ scopes: ["api-keys/*"] });
    await grant(owner, vault, { principal_type: "agent", principal_id: agentId, secret_path_pattern: "**" });
    expect((await api.get(secretUrl(vault, "api-keys/stripe"))).status).toBe(200);
    const res = await api.get(secretUrl(vault, "db/x"));
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/scopes do not cover this path/);
    const list = await api.get(`/v1/vaults/${vault}/secrets`);
    expect(list.body.secrets.map((s: { path: string }) => s.path)).toEqual(["api-keys/stripe"]);
  });
});

describe("crypto proxy agents", () => {
  it("cannot read private_key or ssh_key values, but read api_key values; a plain agent reads all three", async () => {
    const proxied = await newAgent({ cryptoProxyEnabled: true });
    await grant(owner, vault, { principal_type: "agent", principal_id: proxied.agentId, secret_path_pattern: "keys/*" });
    for (const path of ["keys/signer", "keys/ssh"]) {
      const res = await proxied.api.get(secretUrl(vault, path));
      expect(res.status, path).toBe(403);
      expect(res.body.detail).toMatch(/crypto_proxy_enabled/);
      expect(res.text).not.toMatch(/0xprivate|ssh-private/);
    }
    expect((await proxied.api.get(secretUrl(vault, "keys/api"))).body.value).toBe("plain-api-key");

    const plain = await newAgent();
    await grant(owner, vault, { principal_type: "agent", principal_id: plain.agentId, secret_path_pattern: "keys/*" });
    expect((await plain.api.get(secretUrl(vault, "keys/signer"))).body.value).toBe("0xprivate");
    expect((await plain.api.get(secretUrl(vault, "keys/ssh"))).body.value).toBe("ssh-private");
  });
});

describe("existence does not leak", () => {
  it("403 for a path that does not exist equals 403 for one that does, on every secret route", async () => {
    const { agentId, api } = await newAgent();
    await grant(owner, vault, { principal_type: "agent", principal_id: agentId, secret_path_pattern: "api-keys/*" });
    const routes = (path: string) =>
      [
        ["GET", secretUrl(vault, path), undefined],
        ["GET", `/v1/vaults/${vault}/secret-versions/${path}`, undefined],
        ["GET", `/v1/vaults/${vault}/secret-version/${path}/1`, undefined],
        ["PUT", secretUrl(vault, path), { value: "x" }],
        ["POST", `/v1/vaults/${vault}/secret-rotate/${path}`, {}],
        ["POST", `/v1/vaults/${vault}/secret-version-disable/${path}/1`, {}],
        ["DELETE", secretUrl(vault, path), undefined],
      ] as const;
    const existing = routes("db/x");
    const missing = routes("db/nope");
    for (let i = 0; i < existing.length; i++) {
      const [method, url, body] = existing[i]!;
      const a = await api.call(method, url, body);
      const b = await api.call(missing[i]![0], missing[i]![1], missing[i]![2]);
      expect(a.status, `${method} ${url}`).toBe(403);
      expect(b.status, `${method} ${missing[i]![1]}`).toBe(403);
      expect(withoutRequestId(a.text)).toBe(withoutRequestId(b.text));
    }
    // Positive control: inside its grant the agent does tell existing from missing.
    expect((await api.get(secretUrl(vault, "api-keys/stripe"))).status).toBe(200);
    expect((await api.get(secretUrl(vault, "api-keys/nope"))).status).toBe(404);
    expect((await owner.get(secretUrl(vault, "db/x"))).status).toBe(200);
  });
});

describe("listings show only what the caller may read", () => {
  it("secret lists are filtered by readable paths; vault lists by binding and policies", async () => {
    const { agentId, api } = await newAgent();
    await grant(owner, vault, { principal_type: "agent", principal_id: agentId, secret_path_pattern: "api-keys/*" });
    const all = await api.get(`/v1/vaults/${vault}/secrets`);
    expect(all.status).toBe(200);
    expect(all.body.secrets.map((s: { path: string }) => s.path)).toEqual(["api-keys/stripe"]);
    expect((await api.get(`/v1/vaults/${vault}/secrets?prefix=db/`)).body.secrets).toEqual([]);
    expect((await api.get("/v1/vaults")).body.vaults.map((v: { id: string }) => v.id)).toEqual([vault]);
    // Positive control: the owner lists every path and every vault.
    const ownerList = (await owner.get(`/v1/vaults/${vault}/secrets`)).body.secrets.map((s: { path: string }) => s.path);
    expect(ownerList).toEqual(expect.arrayContaining(["api-keys/a/b", "api-keys/stripe", "db/x", "keys/signer"]));
    expect(vaultIdsOf((await owner.get("/v1/vaults")).body)).toEqual([vault, otherVault]);
  });

  it("an agent sees the vault it created, with full access there (owner bypass), and not others", async () => {
    const { api } = await newAgent();
    const created = await api.post("/v1/vaults", { name: "agent-made" });
    expect(created.status).toBe(201);
    expect(created.body.created_by_type).toBe("agent");
    expect((await api.put(secretUrl(created.body.id, "any/path"), { value: "mine" })).status).toBe(201);
    expect((await api.get(secretUrl(created.body.id, "any/path"))).body.value).toBe("mine");
    expect((await api.get("/v1/vaults")).body.vaults.map((v: { id: string }) => v.id)).toEqual([created.body.id]);
    const stranger = await newAgent();
    expect((await stranger.api.get(secretUrl(created.body.id, "any/path"))).status).toBe(403);
  });
});

describe("org boundary", () => {
  it("another org's vault is 404 for an agent, like a vault that does not exist", async () => {
    const other = await signUpVerified(server);
    const theirs = (await client(server.url, other.token).post("/v1/vaults", { name: "theirs" })).body.id;
    const { agentId, api } = await newAgent();
    await grant(owner, vault, { principal_type: "agent", principal_id: agentId });
    const res = await api.get(secretUrl(theirs, "api-keys/stripe"));
    const missing = await api.get(secretUrl(MISSING_VAULT, "api-keys/stripe"));
    expect(res.status).toBe(404);
    expect(withoutRequestId(res.text)).toBe(withoutRequestId(missing.text));
    expect((await api.get(`/v1/vaults/${theirs}/secrets`)).status).toBe(404);
    // Nor can their owner name our agent in a policy.
    const cross = await client(server.url, other.token).post(`/v1/vaults/${theirs}/policies`, { principal_type: "agent", principal_id: agentId });
    expect(cross.status).toBe(404);
    expect((await api.get(secretUrl(vault, "api-keys/stripe"))).status).toBe(200);
  });
});
