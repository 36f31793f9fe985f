import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, addOrgUser, grant, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * `__agent-keys` holds every agent's SSH private key. It is Talon's system vault: created by the
 * system (no creator bypass for whoever registered the first agent), name reserved, never listed,
 * never deletable, no policies, readable only by org owners/admins and by each agent for its own key.
 */
let server: TestServer;
let orgId: string;
let owner: ReturnType<typeof client>;
let ownerToken: string;
let member: Awaited<ReturnType<typeof addOrgUser>>;
let admin: Awaited<ReturnType<typeof addOrgUser>>;
/** Registered by the member: the org's first agent, so the one whose registration created the vault. */
let memberAgent: Awaited<ReturnType<typeof addAgent>>;
let ownerAgent: Awaited<ReturnType<typeof addAgent>>;
let keysVault: string;
let ordinaryVault: string;

const keyUrl = (agentId: string) => `/v1/vaults/${keysVault}/secrets/agents/${agentId}`;
const PRIVATE_KEY = /^-----BEGIN OPENSSH PRIVATE KEY-----\n/;

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  const acct = await signUpVerified(server);
  orgId = acct.orgId;
  ownerToken = acct.token;
  owner = client(server.url, ownerToken);
  member = await addOrgUser(server, orgId, "member");
  admin = await addOrgUser(server, orgId, "admin");
  memberAgent = await addAgent(server, member.token);
  ownerAgent = await addAgent(server, ownerToken);
  const me = await memberAgent.api.get("/v1/agents/me");
  expect(me.status).toBe(200);
  keysVault = me.body.ssh_key_location.vault_id;
  ordinaryVault = (await owner.post("/v1/vaults", { name: "prod" })).body.id;
  expect((await owner.put(`/v1/vaults/${ordinaryVault}/secrets/db/password`, { value: "pg-secret", type: "password" })).status).toBe(201);
});
afterAll(async () => server?.close());

describe("the system vault has no creator", () => {
  it("is created by the system, not by the member whose agent registration created it", async () => {
    const row = await server.rt.db.vault.findUniqueOrThrow({ where: { id: keysVault } });
    expect(row).toMatchObject({ name: "__agent-keys", isSystem: true, createdBy: "system", createdByType: "system" });
    const res = await owner.get(`/v1/vaults/${keysVault}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ created_by: "system", created_by_type: "system" });
  });

  it("the member who registered the org's first agent cannot read another agent's key, nor list the vault", async () => {
    const other = await member.api.get(keyUrl(ownerAgent.agentId));
    expect(other.status).toBe(403);
    expect(other.body.detail).toMatch(/only org owners and admins, and each agent for its own key/);
    expect(other.text).not.toMatch(/PRIVATE KEY/);
    // Not even the key of the agent they registered: the agent reads it, humans who manage keys do.
    expect((await member.api.get(keyUrl(memberAgent.agentId))).status).toBe(403);
    expect((await member.api.get(`/v1/vaults/${keysVault}/secrets`)).status).toBe(403);
    expect((await member.api.get(`/v1/vaults/${keysVault}`)).status).toBe(403);
    // Positive control: the same member reads where a policy lets them.
    await grant(owner, ordinaryVault, { principal_type: "user", principal_id: member.userId, secret_path_pattern: "db/*", permissions: ["read"] });
    expect((await member.api.get(`/v1/vaults/${ordinaryVault}/secrets/db/password`)).body.value).toBe("pg-secret");
  });
});

describe("the name is reserved", () => {
  it("creating a vault named __agent-keys is 409 for the owner, a member and an agent; another name works", async () => {
    for (const actor of [owner, member.api, ownerAgent.api]) {
      const res = await actor.post("/v1/vaults", { name: "__agent-keys" });
      expect(res.status).toBe(409);
      expect(res.body.detail).toMatch(/reserved/);
      expect((await actor.post("/v1/vaults", { name: "__keys-of-mine" })).status).toBe(409);
      expect((await actor.post("/v1/vaults", { name: `agent-keys-${randomUUID().slice(0, 8)}` })).status).toBe(201);
    }
    const names = (await server.rt.db.vault.findMany({ where: { orgId }, select: { name: true } })).map((v) => v.name);
    expect(names.filter((n) => n.startsWith("__"))).toEqual(["__agent-keys"]);
  });

  it("in a new org, taking the name before the first agent is refused, so the first agent's key lands in a system vault", async () => {
    const squatter = await signUpVerified(server);
    const api = client(server.url, squatter.token);
    expect((await api.post("/v1/vaults", { name: "__agent-keys" })).status).toBe(409);
    expect(await server.rt.db.vault.count({ where: { orgId: squatter.orgId } })).toBe(0);
    const agent = await addAgent(server, squatter.token);
    const location = (await agent.api.get("/v1/agents/me")).body.ssh_key_location;
    const row = await server.rt.db.vault.findUniqueOrThrow({ where: { id: location.vault_id } });
    expect(row).toMatchObject({ orgId: squatter.orgId, isSystem: true, createdBy: "system" });
  });
});

describe("no policy opens it", () => {
  it("nobody can grant a policy on it, the owner included; the same owner grants on an ordinary vault", async () => {
    const body = { principal_type: "user", principal_id: member.userId, secret_path_pattern: "agents/**", permissions: ["read"] };
    const res = await owner.post(`/v1/vaults/${keysVault}/policies`, body);
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/system vault/);
    expect((await member.api.post(`/v1/vaults/${keysVault}/policies`, body)).status).toBe(403);
    expect((await owner.get(`/v1/vaults/${keysVault}/policies`)).status).toBe(403);
    expect(await server.rt.db.policy.count({ where: { vaultId: keysVault } })).toBe(0);
    expect((await owner.post(`/v1/vaults/${ordinaryVault}/policies`, { ...body, secret_path_pattern: "agents/**" })).status).toBe(201);
  });

  it("a policy on it left from before (member and agent) is never consulted", async () => {
    for (const [principalType, principalId] of [["user", member.userId], ["agent", memberAgent.agentId]] as const) {
      await server.rt.db.policy.create({
        data: {
          id: randomUUID(),
          orgId,
          vaultId: keysVault,
          secretPathPattern: "agents/**",
          principalType,
          principalId,
          permissions: JSON.stringify(["read", "write"]),
          createdBy: `user:${member.userId}`,
        },
      });
    }
    expect((await member.api.get(keyUrl(ownerAgent.agentId))).status).toBe(403);
    expect((await memberAgent.api.get(keyUrl(ownerAgent.agentId))).status).toBe(403);
    expect((await member.api.put(keyUrl(ownerAgent.agentId), { value: "replaced", type: "ssh_key" })).status).toBe(403);
    await server.rt.db.policy.deleteMany({ where: { vaultId: keysVault } });
  });
});

describe("hidden from every vault list", () => {
  it("GET /v1/vaults leaves it out for the owner, an admin, a member and an agent, and lists the ordinary vault", async () => {
    await grant(owner, ordinaryVault, { principal_type: "agent", principal_id: ownerAgent.agentId, secret_path_pattern: "db/*", permissions: ["read"] });
    for (const actor of [owner, admin.api, member.api, ownerAgent.api]) {
      const ids = (await actor.get("/v1/vaults")).body.vaults.map((v: { id: string }) => v.id);
      expect(ids).not.toContain(keysVault);
      expect(ids).toContain(ordinaryVault);
    }
  });

  it("an agent cannot be bound to it; binding to an ordinary vault works", async () => {
    const res = await owner.patch(`/v1/agents/${ownerAgent.agentId}`, { vault_ids: [keysVault] });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/vault_ids/);
    expect((await owner.post("/v1/agents", { name: "bound", vault_ids: [keysVault] })).status).toBe(400);
    expect((await owner.post("/v1/agents", { name: "bound", vault_ids: [ordinaryVault] })).status).toBe(201);
  });
});

describe("not deletable, not writable", () => {
  it("the owner cannot delete it or change a key in it; the keys stay; the owner deletes an ordinary vault", async () => {
    const del = await owner.delete(`/v1/vaults/${keysVault}`);
    expect(del.status).toBe(403);
    expect(del.body.detail).toMatch(/system vault/);
    expect((await admin.api.delete(`/v1/vaults/${keysVault}`)).status).toBe(403);
    expect((await owner.put(keyUrl(ownerAgent.agentId), { value: "replaced", type: "ssh_key" })).status).toBe(403);
    expect((await owner.delete(keyUrl(ownerAgent.agentId))).status).toBe(403);
    expect((await owner.put(`/v1/vaults/${keysVault}/secrets/planted`, { value: "x", type: "note" })).status).toBe(403);
    expect((await owner.get(keyUrl(ownerAgent.agentId))).body.value).toMatch(PRIVATE_KEY);
    const scratch = (await owner.post("/v1/vaults", { name: "scratch" })).body.id;
    expect((await owner.delete(`/v1/vaults/${scratch}`)).status).toBe(204);
  });
});

describe("who reads it", () => {
  it("org owners and admins read every agent's key and list them all", async () => {
    for (const actor of [owner, admin.api]) {
      for (const a of [memberAgent, ownerAgent]) {
        const res = await actor.get(keyUrl(a.agentId));
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ type: "ssh_key" });
        expect(res.body.value).toMatch(PRIVATE_KEY);
      }
      const paths = (await actor.get(`/v1/vaults/${keysVault}/secrets`)).body.secrets.map((s: { path: string }) => s.path);
      expect(paths).toEqual(expect.arrayContaining([`agents/${memberAgent.agentId}`, `agents/${ownerAgent.agentId}`]));
    }
  });

  it("an agent reads its own key, bound elsewhere too, but not another agent's; its listing shows only its own", async () => {
    const own = await memberAgent.api.get(keyUrl(memberAgent.agentId));
    expect(own.status).toBe(200);
    expect(own.body.value).toMatch(PRIVATE_KEY);
    const theirs = await memberAgent.api.get(keyUrl(ownerAgent.agentId));
    expect(theirs.status).toBe(403);
    expect(theirs.text).not.toMatch(/PRIVATE KEY/);
    const listed = await memberAgent.api.get(`/v1/vaults/${keysVault}/secrets`);
    expect(listed.status).toBe(200);
    // Its own SSH key and, beside it, its X25519 (ECDH) key: nobody else's.
    expect(listed.body.secrets.map((s: { path: string }) => s.path).sort()).toEqual([`agents/${memberAgent.agentId}`, `agents/${memberAgent.agentId}/ecdh`]);

    const bound = await addAgent(server, ownerToken, { vaultIds: [ordinaryVault] });
    expect((await bound.api.get(keyUrl(bound.agentId))).body.value).toMatch(PRIVATE_KEY);
    expect((await bound.api.get(keyUrl(memberAgent.agentId))).status).toBe(403);
  });

  it("an agent holding policies elsewhere still reads its own key (derived scopes are no ceiling), and nothing else there", async () => {
    const a = await addAgent(server, ownerToken);
    await grant(owner, ordinaryVault, { principal_type: "agent", principal_id: a.agentId, secret_path_pattern: "db/*", permissions: ["read"] });
    // A token exchanged after the grant, as a client signing in again would get.
    const rotated = await owner.post(`/v1/agents/${a.agentId}/rotate-key`);
    expect(rotated.status).toBe(200);
    const exchanged = await client(server.url).post("/v1/auth/agent-token", { agent_id: a.agentId, api_key: rotated.body.api_key });
    expect(exchanged.status).toBe(200);
    const api = client(server.url, exchanged.body.access_token);
    expect((await api.get(`/v1/vaults/${ordinaryVault}/secrets/db/password`)).body.value).toBe("pg-secret");
    expect((await api.get(keyUrl(a.agentId))).body.value).toMatch(PRIVATE_KEY);
    expect((await api.get(keyUrl(ownerAgent.agentId))).status).toBe(403);
  });
});
