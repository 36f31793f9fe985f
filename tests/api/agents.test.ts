import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { agentToken, NO_LIMITS, registerAgent } from "../helpers/agents";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
let human: Awaited<ReturnType<typeof signUpVerified>>;
let other: Awaited<ReturnType<typeof signUpVerified>>;
let vaultId: string;
const api = () => client(server.url, human.token);

beforeAll(async () => {
  server = await startTestServer({ env: NO_LIMITS });
  human = await signUpVerified(server);
  other = await signUpVerified(server);
  const v = await api().post("/v1/vaults", { name: "app" });
  expect(v.status).toBe(201);
  vaultId = v.body.id;
});
afterAll(async () => server?.close());

const ADDRESS = "0x52908400098527886E0F7030069857D2E4169EE7";

describe("agent registration", () => {
  it("creates an api_key agent with every field stored and returned, and shows the ocv_ key once", async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const res = await api().post("/v1/agents", {
      name: "deployer",
      description: "ships things",
      scopes: ["api-keys/*", "db/**"],
      expires_at: expiresAt,
      intents_api_enabled: true,
      tx_to_allowlist: [ADDRESS],
      tx_max_value_eth: "0.5",
      tx_daily_limit_eth: "2.000000000000000001",
      tx_allowed_chains: ["base", "sepolia"],
      token_ttl_seconds: 300,
      vault_ids: [vaultId],
    });
    expect(res.status).toBe(201);
    const { agent, api_key } = res.body;
    expect(api_key).toMatch(/^ocv_[A-Za-z0-9_-]{43}$/);
    expect(agent).toMatchObject({
      name: "deployer",
      description: "ships things",
      auth_method: "api_key",
      scopes: ["api-keys/*", "db/**"],
      expires_at: expiresAt,
      is_active: true,
      crypto_proxy_enabled: true,
      tx_to_allowlist: [ADDRESS.toLowerCase()],
      tx_max_value_eth: "0.5",
      tx_daily_limit_eth: "2.000000000000000001",
      tx_allowed_chains: ["base", "sepolia"],
      token_ttl_seconds: 300,
      vault_ids: [vaultId],
      client_cert_fingerprint: null,
      oidc_issuer: null,
      oidc_client_id: null,
      last_active_at: null,
    });
    expect(agent.ssh_public_key).toMatch(new RegExp(`^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/=]+ talon-agent-${agent.id}$`));
    expect(agent).not.toHaveProperty("api_key");
    const got = await api().get(`/v1/agents/${agent.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(agent);
    expect(got.text).not.toContain(api_key);
    const list = await api().get("/v1/agents");
    expect(list.status).toBe(200);
    expect(list.body.agents.map((a: { id: string }) => a.id)).toContain(agent.id);
    expect(list.text).not.toContain(api_key);
    // Stored as a prefix and a hash only.
    const row = await server.rt.db.agent.findUniqueOrThrow({ where: { id: agent.id } });
    expect(api_key.startsWith(row.keyPrefix!)).toBe(true);
    expect(JSON.stringify(row)).not.toContain(api_key);
  });

  it("gives mtls and oidc agents no api key", async () => {
    const fp = "AB:".repeat(31) + "AB";
    const mtls = await api().post("/v1/agents", { name: "m", auth_method: "mtls", client_cert_fingerprint: fp });
    expect(mtls.status).toBe(201);
    expect(mtls.body.api_key).toBeUndefined();
    expect(mtls.body.agent.client_cert_fingerprint).toBe("ab".repeat(32));
    const row = await server.rt.db.agent.findUniqueOrThrow({ where: { id: mtls.body.agent.id } });
    expect(row.keyHash).toBeNull();
  });

  it("refuses invalid fields with a 400 that names them", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ scopes: ["a//b"] }, "scopes.0"],
      [{ scopes: ["a/**x"] }, "scopes.0"],
      [{ tx_to_allowlist: ["0x1234"] }, "tx_to_allowlist.0"],
      [{ tx_max_value_eth: "0" }, "tx_max_value_eth"],
      [{ tx_max_value_eth: "1.1234567890123456789" }, "tx_max_value_eth"],
      [{ tx_daily_limit_eth: "-1" }, "tx_daily_limit_eth"],
      [{ tx_allowed_chains: ["solana"] }, "tx_allowed_chains.0"],
      [{ token_ttl_seconds: 59 }, "token_ttl_seconds"],
      [{ token_ttl_seconds: 86_401 }, "token_ttl_seconds"],
      [{ auth_method: "mtls" }, "client_cert_fingerprint"],
      [{ auth_method: "mtls", client_cert_fingerprint: "abc" }, "client_cert_fingerprint"],
      [{ client_cert_fingerprint: "ab".repeat(32) }, "client_cert_fingerprint"],
      [{ auth_method: "oidc_client_credentials", oidc_issuer: "https://idp.example" }, "oidc_client_id"],
      [{ crypto_proxy_enabled: true, intents_api_enabled: false }, "intents_api_enabled"],
      [{ surprise: 1 }, "surprise"],
      [{ name: "" }, "name"],
    ];
    for (const [body, field] of cases) {
      const res = await api().post("/v1/agents", { name: "x", ...body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.fields.map((f: { field: string }) => f.field), JSON.stringify(body)).toContain(field);
    }
  });

  it("refuses another org's vault in vault_ids, a past expiry and an issuer not allowed", async () => {
    const theirs = await client(server.url, other.token).post("/v1/vaults", { name: "theirs" });
    const bad = await api().post("/v1/agents", { name: "x", vault_ids: [vaultId, theirs.body.id] });
    expect(bad.status).toBe(400);
    expect(bad.body.fields).toEqual([{ field: "vault_ids", message: expect.any(String) }]);
    const past = await api().post("/v1/agents", { name: "x", expires_at: new Date(Date.now() - 1000).toISOString() });
    expect(past.status).toBe(400);
    const idp = await api().post("/v1/agents", { name: "x", auth_method: "oidc_client_credentials", oidc_issuer: "https://evil.example", oidc_client_id: "c" });
    expect(idp.status).toBe(400);
    expect(idp.body.fields[0].field).toBe("oidc_issuer");
    // Positive control: the org's own vault is accepted.
    expect((await api().post("/v1/agents", { name: "x", vault_ids: [vaultId] })).status).toBe(201);
  });
});

describe("an agent at work", () => {
  it("exchanges its key for a JWT with the card's claims and reads a secret its policy allows", async () => {
    const put = await api().put(`/v1/vaults/${vaultId}/secrets/api-keys/stripe`, { value: "sk_live_123", type: "api_key" });
    expect(put.status).toBe(201);
    const a = await registerAgent(server.url, human.token, { vault_ids: [vaultId], token_ttl_seconds: 600 });
    const ex = await client(server.url).post("/v1/auth/agent-token", { agent_id: a.id, api_key: a.apiKey });
    expect(ex.status).toBe(200);
    expect(ex.body).toMatchObject({ token_type: "bearer", expires_in: 600, agent_id: a.id, vault_ids: [vaultId] });
    const claims = decodeJwt(ex.body.access_token);
    expect(claims).toMatchObject({ sub: `agent:${a.id}`, org: human.orgId, scopes: [], vault_ids: [vaultId], crypto_proxy_enabled: false, aud: "talon-api" });
    expect(claims.exp! - claims.iat!).toBe(600);
    expect(typeof claims.jti).toBe("string");
    const agentApi = client(server.url, ex.body.access_token);
    // No policy yet: 403.
    expect((await agentApi.get(`/v1/vaults/${vaultId}/secrets/api-keys/stripe`)).status).toBe(403);
    const pol = await api().post(`/v1/vaults/${vaultId}/policies`, { principal_type: "agent", principal_id: a.id, secret_path_pattern: "api-keys/*", permissions: ["read"] });
    expect(pol.status).toBe(201);
    // Scopes are derived from policies at issue time: a new token carries them.
    const token = await agentToken(server.url, a.id, a.apiKey);
    // …plus the agent's own SSH key, which it may always read.
    expect(decodeJwt(token).scopes).toEqual(["api-keys/*", `agents/${a.id}`]);
    const read = await client(server.url, token).get(`/v1/vaults/${vaultId}/secrets/api-keys/stripe`);
    expect(read.status).toBe(200);
    expect(read.body.value).toBe("sk_live_123");
    // The ocv_ key works directly as Bearer too.
    const direct = await client(server.url, a.apiKey).get(`/v1/vaults/${vaultId}/secrets/api-keys/stripe`);
    expect(direct.status).toBe(200);
    const row = await server.rt.db.agent.findUniqueOrThrow({ where: { id: a.id } });
    expect(row.lastActiveAt).not.toBeNull();
  });

  it("GET /v1/agents/me answers the agent with org_id and created_by; humans get 403", async () => {
    const a = await registerAgent(server.url, human.token);
    const token = await agentToken(server.url, a.id, a.apiKey);
    const me = await client(server.url, token).get("/v1/agents/me");
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: a.id, org_id: human.orgId, created_by: human.userId, ssh_public_key: a.agent.ssh_public_key });
    expect((await client(server.url, a.apiKey).get("/v1/agents/me")).body.id).toBe(a.id);
    expect((await api().get("/v1/agents/me")).status).toBe(403);
  });

  it("accepts the public MCP server's Content-Type: application/json on a bodiless DELETE", async () => {
    const a = await registerAgent(server.url, human.token);
    const token = await agentToken(server.url, a.id, a.apiKey);
    const res = await client(server.url, token).delete("/v1/auth/token", undefined, { "Content-Type": "application/json" });
    expect(res.status).toBe(204);
  });
});

describe("agent management", () => {
  it("PATCH changes fields; deactivation, rotation and deletion are audited", async () => {
    const a = await registerAgent(server.url, human.token);
    const patched = await api().patch(`/v1/agents/${a.id}`, { name: "renamed", crypto_proxy_enabled: true, tx_max_value_eth: "1", tx_allowed_chains: ["base"], token_ttl_seconds: 120 });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: "renamed", crypto_proxy_enabled: true, tx_max_value_eth: "1", tx_allowed_chains: ["base"], token_ttl_seconds: 120 });
    const cleared = await api().patch(`/v1/agents/${a.id}`, { tx_max_value_eth: null, token_ttl_seconds: null });
    expect(cleared.body).toMatchObject({ tx_max_value_eth: null, token_ttl_seconds: null, name: "renamed" });
    expect((await api().patch(`/v1/agents/${a.id}`, { is_active: false })).body.is_active).toBe(false);
    const rotated = await api().post(`/v1/agents/${a.id}/rotate-key`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.api_key).toMatch(/^ocv_/);
    expect(rotated.body.api_key).not.toBe(a.apiKey);
    expect((await api().delete(`/v1/agents/${a.id}`)).status).toBe(204);
    expect((await api().get(`/v1/agents/${a.id}`)).status).toBe(404);
    expect((await api().delete(`/v1/agents/${a.id}`)).status).toBe(404);
    const events = await server.rt.db.auditEvent.findMany({ where: { resourceId: a.id }, orderBy: { createdAt: "asc" } });
    expect(events.map((e) => e.action)).toEqual(["agent.register", "agent.update", "agent.update", "agent.deactivate", "agent.rotate_key", "agent.delete"]);
    expect(events.every((e) => e.actorId === `user:${human.userId}`)).toBe(true);
  });

  it("rotate-key on an mtls agent is 400", async () => {
    const m = await api().post("/v1/agents", { name: "m", auth_method: "mtls", client_cert_fingerprint: "cd".repeat(32) });
    expect((await api().post(`/v1/agents/${m.body.agent.id}/rotate-key`)).status).toBe(400);
  });
});

describe("the agent's SSH key", () => {
  it("stores the private key as an ssh_key secret in the system vault that matches the public key", async () => {
    const a = await registerAgent(server.url, human.token);
    const me = await client(server.url, await agentToken(server.url, a.id, a.apiKey)).get("/v1/agents/me");
    expect(me.status).toBe(200);
    const { vault_id: keysVaultId, path: keyPath } = me.body.ssh_key_location;
    expect(keyPath).toBe(`agents/${a.id}`);
    // The system vault is never listed, not even to the org's owner, who can still read the key.
    expect((await api().get("/v1/vaults")).body.vaults.map((v: { id: string }) => v.id)).not.toContain(keysVaultId);
    const secret = await api().get(`/v1/vaults/${keysVaultId}/secrets/${keyPath}`);
    expect(secret.status).toBe(200);
    expect(secret.body.type).toBe("ssh_key");
    expect(secret.body.value).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    // OpenSSH itself derives the same public key from the stored private key.
    const dir = mkdtempSync(path.join(tmpdir(), "talon-ssh-"));
    try {
      writeFileSync(path.join(dir, "id"), secret.body.value, { mode: 0o600 });
      const derived = execFileSync("ssh-keygen", ["-y", "-f", path.join(dir, "id")]).toString().trim();
      expect(derived).toBe(a.agent.ssh_public_key);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // A second agent reuses the vault.
    await registerAgent(server.url, human.token);
    expect(await server.rt.db.vault.count({ where: { orgId: human.orgId, isSystem: true } })).toBe(1);
  });

  it("a crypto-proxy agent cannot read its own SSH key; the same agent without the flag can", async () => {
    const a = await registerAgent(server.url, human.token);
    const agentApi = async () => client(server.url, await agentToken(server.url, a.id, a.apiKey));
    const { vault_id, path: keyPath } = (await (await agentApi()).get("/v1/agents/me")).body.ssh_key_location;
    const url = `/v1/vaults/${vault_id}/secrets/${keyPath}`;
    expect((await (await agentApi()).get(url)).status).toBe(200);
    expect((await api().patch(`/v1/agents/${a.id}`, { crypto_proxy_enabled: true })).status).toBe(200);
    const res = await (await agentApi()).get(url);
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/crypto_proxy_enabled/);
  });
});
