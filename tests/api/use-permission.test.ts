import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../../server/http/errors";
import type { Ctx, Principal } from "../../server/http/principal";
import { readSecret } from "../../server/secrets/read";
import { restoreSecretVersion } from "../../server/secrets/service";
import { openSigningKeyForSigner } from "../../server/secrets/signing-key-read";
import { exportSecrets } from "../../server/secrets/transfer";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, addOrgUser, grant, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";
import { call, connectHttp } from "../mcp/helpers";

/**
 * The `use` permission (issue 14 item 1): a principal holding `use` but not `read` on a path is
 * refused the value by every route a value leaves Talon through — each refusal a 403 naming the
 * permission — and can still list the paths, describe them, and have `talon run` inject an
 * env_bundle (POST …/secret-inject, audited as `secret.use`, counted like a read). Canary values are
 * planted and every answer given to the use-only principal is searched for them.
 */
const tag = randomUUID().slice(0, 8);
const CANARY_KEY_V1 = `use-canary-key1-${tag}`;
const CANARY_KEY_V2 = `use-canary-key2-${tag}`;
const CANARY_BUNDLE = `use-canary-bundle-${tag}`;
const CANARY_LIMITED = `use-canary-limited-${tag}`;
const CANARY_SIGNER = `${"ab".repeat(28)}${tag}`; // 64 hex digits: a signing key the signer would open
const CANARIES = [CANARY_KEY_V1, CANARY_KEY_V2, CANARY_BUNDLE, CANARY_LIMITED, CANARY_SIGNER];

let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let api: ReturnType<typeof client>;
let vaultId: string;
let keyId: string;
let useAgent: Awaited<ReturnType<typeof addAgent>> & { apiKey: string };
let useMember: Awaited<ReturnType<typeof addOrgUser>>;

/** Everything the use-only principals were answered, searched for canaries at the end. */
const seen: string[] = [];
const note = <T extends { status: number; text: string }>(r: T): T => {
  seen.push(r.text);
  return r;
};

const USE_ONLY = /You hold `use` on this path, not `read`/;

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  try {
    const v = await p;
    seen.push(JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? Buffer.from(x).toString("hex") : x)));
  } catch (e) {
    if (e instanceof ApiError) {
      seen.push(e.detail);
      return e;
    }
    throw e;
  }
  throw new Error("expected a refusal, got an answer");
}

const sessionCtx = (u: { userId: string }, role: "owner" | "member"): Ctx => ({
  rt: server.rt,
  principal: { kind: "user", userId: u.userId, orgId: owner.orgId, role, via: "session", credentialId: randomUUID() },
  requestId: randomUUID(),
  ip: "127.0.0.1",
});

async function agentCtx(agentId: string): Promise<Ctx> {
  const a = await server.rt.db.agent.findUniqueOrThrow({ where: { id: agentId } });
  const principal: Principal = {
    kind: "agent",
    agentId: a.id,
    orgId: a.orgId,
    createdBy: a.createdBy,
    via: "api_key",
    credentialId: a.id,
    scopes: [],
    vaultIds: [],
    cryptoProxyEnabled: a.cryptoProxyEnabled,
  };
  return { rt: server.rt, principal, requestId: randomUUID(), ip: "127.0.0.1" };
}

beforeAll(async () => {
  server = await startTestServer({ env: { ...NO_RATE_LIMITS, TALON_MCP_RATE_LIMIT_PER_MINUTE: "0" } });
  owner = await signUpVerified(server);
  api = client(server.url, owner.token);
  vaultId = (await api.post("/v1/vaults", { name: "use-vault" })).body.id;
  const put = (p: string, body: Record<string, unknown>) => api.put(`/v1/vaults/${vaultId}/secrets/${p}`, body);
  keyId = (await put("svc/api-key", { value: CANARY_KEY_V1, type: "api_key" })).body.id;
  expect((await put("svc/api-key", { value: CANARY_KEY_V2, type: "api_key" })).status).toBe(201);
  expect((await put("svc/bundle", { value: `# app\nTOKEN=${CANARY_BUNDLE}\n`, type: "env_bundle" })).status).toBe(201);
  expect((await put("svc/limited", { value: `LIMITED=${CANARY_LIMITED}\n`, type: "env_bundle", max_access_count: 3 })).status).toBe(201);
  expect((await put("svc/signer", { value: CANARY_SIGNER, type: "private_key" })).status).toBe(201);
  expect((await put("other/x", { value: "not-for-the-agent" })).status).toBe(201);

  const created = await api.post("/v1/agents", { name: `use-agent-${tag}` });
  const exchanged = await client(server.url).post("/v1/auth/agent-token", { agent_id: created.body.agent.id, api_key: created.body.api_key });
  useAgent = { agentId: created.body.agent.id, token: exchanged.body.access_token, api: client(server.url, exchanged.body.access_token), apiKey: created.body.api_key };
  await grant(api, vaultId, { principal_type: "agent", principal_id: useAgent.agentId, secret_path_pattern: "svc/**", permissions: ["use"] });

  useMember = await addOrgUser(server, owner.orgId, "member");
  await grant(api, vaultId, { principal_type: "user", principal_id: useMember.userId, secret_path_pattern: "svc/**", permissions: ["use"] });
});

afterAll(async () => {
  await server?.close();
});

describe("a use-only principal is never answered a value", () => {
  it("GET secret, GET a version, share creation: 403 naming the permission", async () => {
    const a = useAgent.api;
    for (const p of ["svc/api-key", "svc/bundle", "svc/signer", "svc/limited"]) {
      const r = note(await a.get(`/v1/vaults/${vaultId}/secrets/${p}`));
      expect(r.status).toBe(403);
      expect(r.body.detail).toMatch(USE_ONLY);
    }
    for (const v of [1, 2]) {
      const r = note(await a.get(`/v1/vaults/${vaultId}/secret-version/svc/api-key/${v}`));
      expect(r.status).toBe(403);
      expect(r.body.detail).toMatch(USE_ONLY);
    }
    const expires_at = new Date(Date.now() + 3600_000).toISOString();
    for (const body of [{ recipient_type: "anyone_with_link", expires_at }, { recipient_type: "creator", expires_at }]) {
      const r = note(await a.post(`/v1/secrets/${keyId}/share`, body));
      expect(r.status).toBe(403);
      expect(r.body.detail).toMatch(USE_ONLY);
    }
    // Writing routes that answer values stay behind `write`.
    const rotated = note(await a.post(`/v1/vaults/${vaultId}/secret-rotate/svc/api-key`, {}));
    expect(rotated.status).toBe(403);
    // The limited bundle's reads were refused before counting: its three uses are all still there.
    const row = await server.rt.db.secretVersion.findFirstOrThrow({ where: { secret: { vaultId, path: "svc/limited" } } });
    expect(row.accessCount).toBe(0);
  });

  it("MCP get_secret, get_env_bundle and share_secret refuse with the same words", async () => {
    const mcp = await connectHttp(server.url, { Authorization: `Bearer ${useAgent.apiKey}`, "X-Vault-ID": vaultId });
    try {
      for (const [name, args] of [
        ["get_secret", { path: "svc/api-key" }],
        ["get_env_bundle", { path: "svc/bundle" }],
        ["share_secret", { secret_id: keyId, recipient_type: "anyone_with_link", expires_at: new Date(Date.now() + 3600_000).toISOString() }],
      ] as const) {
        const r = await call(mcp.client, name, args);
        seen.push(r.text, JSON.stringify(r.data));
        expect(r.isError, name).toBe(true);
        expect(r.text, name).toMatch(/`use`.*not `read`/);
      }
      // What a use-only agent needs: which paths it may use, and what they are.
      const listed = await call(mcp.client, "list_secrets");
      seen.push(listed.text);
      expect(listed.isError).toBe(false);
      const described = await call(mcp.client, "describe_secret", { path: "svc/bundle" });
      seen.push(described.text);
      expect(described.isError).toBe(false);
      expect(described.data).toMatchObject({ path: "svc/bundle", type: "env_bundle" });
    } finally {
      await mcp.close();
    }
  });

  it("the dashboard's reveal and folder export (a member holding only use)", async () => {
    const ctx = sessionCtx(useMember, "member");
    expect((await refusal(readSecret(ctx, { vaultId, path: "svc/api-key" }))).detail).toMatch(USE_ONLY);
    expect((await refusal(readSecret(ctx, { vaultId, path: "svc/api-key", version: 1 }))).detail).toMatch(USE_ONLY);
    for (const format of ["env", "json"] as const) {
      const out = await exportSecrets(ctx, { vault_id: vaultId, prefix: "svc/", format });
      seen.push(JSON.stringify(out));
      expect(out.exported).toEqual([]);
      // Every path it may use is listed and skipped with the refusal (the limited one for its limit).
      expect(out.skipped.map((s) => s.path).sort()).toEqual(["svc/api-key", "svc/bundle", "svc/limited", "svc/signer"]);
      for (const s of out.skipped.filter((x) => x.path !== "svc/limited")) expect(s.reason).toMatch(USE_ONLY);
    }
    // Restore-as-new-version answers no value but would copy one: it needs write, then read.
    expect((await refusal(restoreSecretVersion(ctx, { vaultId, path: "svc/api-key", version: 1 }))).status).toBe(403);
  });

  it("the crypto proxy's signing-key read needs read", async () => {
    const e = await refusal(openSigningKeyForSigner(await agentCtx(useAgent.agentId), { vaultId, path: "svc/signer" }));
    expect(e.status).toBe(403);
    expect(e.detail).toMatch(USE_ONLY);
  });

  it("listing shows exactly the paths it may use (no values); versions are metadata it may see", async () => {
    const list = note(await useAgent.api.get(`/v1/vaults/${vaultId}/secrets`));
    expect(list.status).toBe(200);
    expect(list.body.secrets.map((s: { path: string }) => s.path).sort()).toEqual(["svc/api-key", "svc/bundle", "svc/limited", "svc/signer"]);
    const versions = note(await useAgent.api.get(`/v1/vaults/${vaultId}/secret-versions/svc/api-key`));
    expect(versions.status).toBe(200);
    expect(versions.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    // Outside its policy: nothing, as before.
    const other = note(await useAgent.api.get(`/v1/vaults/${vaultId}/secrets/other/x`));
    expect(other.status).toBe(403);
    expect(other.body.detail).toContain("No policy grants you read access");
  });

  it("no canary in anything the use-only principals were answered", () => {
    expect(seen.length).toBeGreaterThan(15);
    const all = seen.join("\n");
    for (const c of CANARIES) expect(all).not.toContain(c);
  });
});

describe("talon run's injection route (POST …/secret-inject)", () => {
  it("a use-only agent gets an env_bundle for injection, audited as secret.use with purpose run and without the value", async () => {
    const r = await useAgent.api.post(`/v1/vaults/${vaultId}/secret-inject/svc/bundle`, { purpose: "run" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ path: "svc/bundle", type: "env_bundle", version: 1, cmek_encrypted: false });
    expect(r.body.value).toContain(`TOKEN=${CANARY_BUNDLE}`);

    const events = await server.rt.db.auditEvent.findMany({ where: { orgId: owner.orgId, action: "secret.use" } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorId: `agent:${useAgent.agentId}`, actorType: "agent", resourceType: "secret" });
    expect(JSON.parse(events[0]!.details)).toEqual({ vault_id: vaultId, path: "svc/bundle", version: 1, purpose: "run" });
    const everything = JSON.stringify(await server.rt.db.auditEvent.findMany({ where: { orgId: owner.orgId } }));
    for (const c of CANARIES) expect(everything).not.toContain(c);
  });

  it("only env_bundle secrets; the purpose is required; outside the policy and without any grant it is refused", async () => {
    const notBundle = await useAgent.api.post(`/v1/vaults/${vaultId}/secret-inject/svc/api-key`, { purpose: "run" });
    expect(notBundle.status).toBe(422);
    expect(notBundle.body.detail).toContain("only env_bundle");
    expect(notBundle.text).not.toContain(CANARY_KEY_V2);
    expect((await useAgent.api.post(`/v1/vaults/${vaultId}/secret-inject/svc/bundle`, {})).status).toBe(400);
    expect((await useAgent.api.post(`/v1/vaults/${vaultId}/secret-inject/svc/bundle`, { purpose: "run", extra: 1 })).status).toBe(400);
    const outside = await useAgent.api.post(`/v1/vaults/${vaultId}/secret-inject/other/x`, { purpose: "run" });
    expect(outside.status).toBe(403);
    expect(outside.body.detail).toContain("No policy grants you use access");
    const stranger = await addAgent(server, owner.token);
    expect((await stranger.api.post(`/v1/vaults/${vaultId}/secret-inject/svc/bundle`, { purpose: "run" })).status).toBe(403);
  });

  it("counts against max_access_count atomically: of eight concurrent injections of a 3-use bundle, three succeed", async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => useAgent.api.post(`/v1/vaults/${vaultId}/secret-inject/svc/limited`, { purpose: "run" })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 410, 410, 410, 410, 410]);
    for (const r of results.filter((x) => x.status === 410)) expect(r.text).not.toContain(CANARY_LIMITED);
    const row = await server.rt.db.secretVersion.findFirstOrThrow({ where: { secret: { vaultId, path: "svc/limited" } } });
    expect(row.accessCount).toBe(3);
  });
});

describe("read still implies use; a denied use is a denied read", () => {
  it("a read holder reads and injects (positive control)", async () => {
    const reader = await addAgent(server, owner.token);
    await grant(api, vaultId, { principal_type: "agent", principal_id: reader.agentId, secret_path_pattern: "svc/**", permissions: ["read"] });
    const got = await reader.api.get(`/v1/vaults/${vaultId}/secrets/svc/api-key`);
    expect(got.status).toBe(200);
    expect(got.body.value).toBe(CANARY_KEY_V2);
    expect((await reader.api.post(`/v1/vaults/${vaultId}/secret-inject/svc/bundle`, { purpose: "run" })).status).toBe(200);
  });

  it("allow read + deny use on a path: neither read, nor injection, nor listing of that path", async () => {
    const agent = await addAgent(server, owner.token);
    await grant(api, vaultId, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "svc/**", permissions: ["read"] });
    await grant(api, vaultId, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "svc/bundle", permissions: ["use"], effect: "deny" });
    const read = await agent.api.get(`/v1/vaults/${vaultId}/secrets/svc/bundle`);
    expect(read.status).toBe(403);
    expect(read.body.detail).toContain("A policy denies you read access");
    expect((await agent.api.post(`/v1/vaults/${vaultId}/secret-inject/svc/bundle`, { purpose: "run" })).status).toBe(403);
    const list = await agent.api.get(`/v1/vaults/${vaultId}/secrets`);
    expect(list.body.secrets.map((s: { path: string }) => s.path)).not.toContain("svc/bundle");
    expect((await agent.api.get(`/v1/vaults/${vaultId}/secrets/svc/api-key`)).status).toBe(200);
  });

  it("a deny of read on a use-only path removes the use too", async () => {
    const agent = await addAgent(server, owner.token);
    await grant(api, vaultId, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "svc/**", permissions: ["use"] });
    await grant(api, vaultId, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "svc/bundle", permissions: ["read"], effect: "deny" });
    const injected = await agent.api.post(`/v1/vaults/${vaultId}/secret-inject/svc/bundle`, { purpose: "run" });
    expect(injected.status).toBe(403);
    expect(injected.body.detail).toContain("A policy denies you use access");
  });
});
