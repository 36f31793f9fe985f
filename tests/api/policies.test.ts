import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, addOrgUser, grant, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";
import { derivedScopesForAgent } from "../../server/access/scopes";

let server: TestServer;
let owner: ReturnType<typeof client>;
let orgId: string;
let ownerId: string;
let ownerToken: string;
let vault: string;

const policiesUrl = (v: string) => `/v1/vaults/${v}/policies`;
const fieldsOf = (body: { fields?: { field: string }[] }) => (body.fields ?? []).map((f) => f.field);

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  const acct = await signUpVerified(server);
  owner = client(server.url, acct.token);
  orgId = acct.orgId;
  ownerId = acct.userId;
  ownerToken = acct.token;
  vault = (await owner.post("/v1/vaults", { name: "prod" })).body.id;
  expect((await owner.put(`/v1/vaults/${vault}/secrets/db/password`, { value: "hunter2-long-enough" })).status).toBe(201);
});
afterAll(async () => {
  await server?.close();
});

describe("policy CRUD", () => {
  it("creates with the card's defaults, lists, updates the mutable fields, deletes, and audits each step", async () => {
    const { agentId } = await addAgent(server, ownerToken);
    const created = await owner.post(policiesUrl(vault), { principal_type: "agent", principal_id: agentId });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      vault_id: vault,
      secret_path_pattern: "**",
      principal_type: "agent",
      principal_id: agentId,
      permissions: ["read"],
      conditions: {},
      effect: "allow",
      priority: 0,
      policy_schema_version: 1,
      expires_at: null,
      created_by: `user:${ownerId}`,
      created_by_type: "user",
      created_at: expect.any(String),
    });
    const pid = created.body.id as string;

    const list = await owner.get(policiesUrl(vault));
    expect(list.status).toBe(200);
    expect(list.body.policies).toEqual([created.body]);

    const expires = new Date(Date.now() + 86_400_000).toISOString();
    const window = { after: "08:00", before: "20:00", timezone: "Europe/Paris", days_of_week: [1, 2, 3, 4, 5] };
    const updated = await owner.put(`${policiesUrl(vault)}/${pid}`, {
      permissions: ["read", "write"],
      conditions: { ip_allowlist: ["10.0.0.0/8", "2001:db8::/32"], time_window: window },
      expires_at: expires,
      effect: "deny",
      priority: 7,
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      id: pid,
      secret_path_pattern: "**",
      permissions: ["read", "write"],
      conditions: { ip_allowlist: ["10.0.0.0/8", "2001:db8::/32"], time_window: window },
      expires_at: expires,
      effect: "deny",
      priority: 7,
    });
    const cleared = await owner.put(`${policiesUrl(vault)}/${pid}`, { conditions: null, expires_at: null });
    expect(cleared.body).toMatchObject({ conditions: {}, expires_at: null, permissions: ["read", "write"] });

    expect((await owner.delete(`${policiesUrl(vault)}/${pid}`)).status).toBe(204);
    expect((await owner.delete(`${policiesUrl(vault)}/${pid}`)).status).toBe(404);
    expect((await owner.put(`${policiesUrl(vault)}/${pid}`, { permissions: ["read"] })).status).toBe(404);
    expect((await owner.get(policiesUrl(vault))).body.policies).toEqual([]);

    const events = await server.rt.db.auditEvent.findMany({ where: { resourceId: pid }, orderBy: { createdAt: "asc" } });
    expect(events.map((e) => e.action)).toEqual(["policy.create", "policy.update", "policy.update", "policy.delete"]);
    expect(events.every((e) => e.actorId === `user:${ownerId}` && e.orgId === orgId)).toBe(true);
  });

  it("accepts what the public SDK sends on every grant, with the unsupported fields empty", async () => {
    const { agentId } = await addAgent(server, ownerToken);
    const res = await owner.post(policiesUrl(vault), {
      principal_type: "agent",
      principal_id: agentId,
      secret_path_pattern: "db/*",
      permissions: ["read"],
      conditions: {},
      expires_at: null,
      effect: "allow",
      priority: 10,
      policy_schema_version: 1,
      attribute_conditions: null,
      consensus_trigger: null,
      tx_conditions: {},
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ secret_path_pattern: "db/*", priority: 10, policy_schema_version: 1, conditions: {} });
  });
});

describe("policy validation", () => {
  let agentId: string;
  beforeAll(async () => {
    agentId = (await addAgent(server, ownerToken)).agentId;
  });
  const base = () => ({ principal_type: "agent", principal_id: agentId });

  it.each([
    ["an unknown condition key", { conditions: { geo: ["FR"] } }, "conditions.geo", /unknown field/],
    ["a bad CIDR", { conditions: { ip_allowlist: ["10.0.0.0/33"] } }, "conditions.ip_allowlist.0", /CIDR/],
    ["a non-address", { conditions: { ip_allowlist: ["localhost"] } }, "conditions.ip_allowlist.0", /CIDR/],
    ["too many CIDRs", { conditions: { ip_allowlist: Array(65).fill("10.0.0.0/8") } }, "conditions.ip_allowlist", /64/],
    ["a bad time", { conditions: { time_window: { after: "8am", before: "20:00" } } }, "conditions.time_window.after", /HH:MM/],
    ["a bad time zone", { conditions: { time_window: { after: "08:00", before: "20:00", timezone: "Mars/Olympus" } } }, "conditions.time_window", /IANA/],
    ["a bad weekday", { conditions: { time_window: { after: "08:00", before: "20:00", days_of_week: [0] } } }, "conditions.time_window.days_of_week.0", /1/],
    ["an unknown time_window key", { conditions: { time_window: { after: "08:00", before: "20:00", tz: "UTC" } } }, "conditions.time_window.tz", /unknown field/],
    ["a pattern with **x", { secret_path_pattern: "db/**x" }, "secret_path_pattern", /'\*\*' must be a whole segment/],
    ["a pattern with //", { secret_path_pattern: "db//x" }, "secret_path_pattern", /empty segments/],
    ["a pattern with dots", { secret_path_pattern: "../db" }, "secret_path_pattern", /segments may contain/],
    ["attribute_conditions", { attribute_conditions: { role: "ops" } }, "attribute_conditions", /not supported/],
    ["consensus_trigger", { consensus_trigger: { approvers: 2 } }, "consensus_trigger", /not supported/],
    ["tx_conditions", { tx_conditions: { max_value: "1" } }, "tx_conditions", /not supported/],
    ["policy_schema_version 2", { policy_schema_version: 2 }, "policy_schema_version", /./],
    ["no permissions", { permissions: [] }, "permissions", /./],
    ["an unknown permission", { permissions: ["admin"] }, "permissions.0", /./],
    ["a repeated permission", { permissions: ["read", "read"] }, "permissions", /repeat/],
    ["a past expiry", { expires_at: "2020-01-01T00:00:00Z" }, "expires_at", /future/],
    ["a negative priority", { priority: -1 }, "priority", /./],
    ["an unknown effect", { effect: "maybe" }, "effect", /./],
    ["an unknown field", { vault_path: "x" }, "vault_path", /unknown field/],
  ])("400 naming the field for %s", async (_name, extra, field, message) => {
    const res = await owner.post(policiesUrl(vault), { ...base(), ...extra });
    expect(res.status).toBe(400);
    expect(fieldsOf(res.body)).toContain(field);
    expect(res.body.detail).toMatch(message);
  });

  it("400 on updating anything but permissions, conditions, expires_at, effect and priority", async () => {
    const p = await grant(owner, vault, base());
    for (const body of [{ secret_path_pattern: "x/*" }, { principal_id: agentId }, { principal_type: "user" }, {}]) {
      const res = await owner.put(`${policiesUrl(vault)}/${p.id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await owner.put(`${policiesUrl(vault)}/${p.id}`, { permissions: ["write"] })).body.permissions).toEqual(["write"]);
  });

  it("404 when the principal is not a user or agent of the caller's org", async () => {
    const other = await signUpVerified(server);
    const theirAgent = await addAgent(server, other.token);
    for (const body of [
      { principal_type: "user", principal_id: other.userId },
      { principal_type: "agent", principal_id: theirAgent.agentId },
      { principal_type: "agent", principal_id: ownerId },
      { principal_type: "user", principal_id: "00000000-0000-4000-8000-000000000000" },
    ]) {
      const res = await owner.post(policiesUrl(vault), body);
      expect(res.status, JSON.stringify(body)).toBe(404);
      expect(res.body.detail).toMatch(/principal_id/);
    }
    expect((await owner.post(policiesUrl(vault), { principal_type: "user", principal_id: ownerId })).status).toBe(201);
  });
});

describe("who may manage policies", () => {
  it("org owners, admins and the vault's creator may; members and other agents get 403; other orgs 404", async () => {
    const member = await addOrgUser(server, orgId, "member");
    const admin = await addOrgUser(server, orgId, "admin");
    const { agentId, api: agentApi } = await addAgent(server, ownerToken);
    await grant(owner, vault, { principal_type: "agent", principal_id: agentId, permissions: ["read", "write"] });
    const body = { principal_type: "agent", principal_id: agentId };

    expect((await member.api.post(policiesUrl(vault), body)).status).toBe(403);
    expect((await member.api.get(policiesUrl(vault))).status).toBe(403);
    const byAgent = await agentApi.post(policiesUrl(vault), body);
    expect(byAgent.status).toBe(403);
    expect(byAgent.body.detail).toMatch(/creator or an org owner or admin/);
    expect((await admin.api.post(policiesUrl(vault), body)).status).toBe(201);
    expect((await admin.api.get(policiesUrl(vault))).status).toBe(200);

    // A member who created a vault manages its policies.
    const own = (await member.api.post("/v1/vaults", { name: "member-vault" })).body.id;
    expect((await member.api.post(policiesUrl(own), body)).status).toBe(201);

    const outsider = client(server.url, (await signUpVerified(server)).token);
    expect((await outsider.post(policiesUrl(vault), body)).status).toBe(404);
    expect((await outsider.get(policiesUrl(vault))).status).toBe(404);
    const pid = (await owner.get(policiesUrl(vault))).body.policies[0].id;
    expect((await outsider.delete(`${policiesUrl(vault)}/${pid}`)).status).toBe(404);
    // A policy addressed through another vault of the same org is not found either.
    expect((await owner.delete(`${policiesUrl(own)}/${pid}`)).status).toBe(404);
  });

  it("an agent grants access on a vault it created (grant_access), and the grantee can then read", async () => {
    const maker = await addAgent(server, ownerToken);
    const grantee = await addAgent(server, ownerToken);
    const made = (await maker.api.post("/v1/vaults", { name: "made-by-agent" })).body.id;
    expect((await maker.api.put(`/v1/vaults/${made}/secrets/shared/token`, { value: "agent-shared" })).status).toBe(201);
    expect((await grantee.api.get(`/v1/vaults/${made}/secrets/shared/token`)).status).toBe(403);
    const res = await maker.api.post(policiesUrl(made), { principal_type: "agent", principal_id: grantee.agentId, secret_path_pattern: "shared/*" });
    expect(res.status).toBe(201);
    expect(res.body.created_by).toBe(`agent:${maker.agentId}`);
    expect((await grantee.api.get(`/v1/vaults/${made}/secrets/shared/token`)).body.value).toBe("agent-shared");
  });
});

describe("humans and policies", () => {
  it("members need a policy; owners and admins bypass; policies name users too", async () => {
    const member = await addOrgUser(server, orgId, "member");
    const admin = await addOrgUser(server, orgId, "admin");
    const url = `/v1/vaults/${vault}/secrets/db/password`;
    expect((await member.api.get(url)).status).toBe(403);
    expect((await member.api.get("/v1/vaults")).body.vaults).toEqual([]);
    expect((await member.api.delete(`/v1/vaults/${vault}`)).status).toBe(403);
    expect((await admin.api.get(url)).body.value).toBe("hunter2-long-enough");
    expect((await admin.api.get("/v1/vaults")).body.vaults.map((v: { id: string }) => v.id)).toContain(vault);

    await grant(owner, vault, { principal_type: "user", principal_id: member.userId, secret_path_pattern: "db/*" });
    expect((await member.api.get(url)).body.value).toBe("hunter2-long-enough");
    expect((await member.api.put(url, { value: "member-write" })).status).toBe(403);
    expect((await member.api.get("/v1/vaults")).body.vaults.map((v: { id: string }) => v.id)).toEqual([vault]);
  });

  it("a deny policy on a human beats the owner bypass", async () => {
    const admin = await addOrgUser(server, orgId, "admin");
    const url = `/v1/vaults/${vault}/secrets/db/password`;
    expect((await admin.api.get(url)).status).toBe(200);
    const deny = await grant(owner, vault, { principal_type: "user", principal_id: admin.userId, secret_path_pattern: "db/**", effect: "deny" });
    expect((await admin.api.get(url)).status).toBe(403);
    expect((await admin.api.get(`/v1/vaults/${vault}/secrets`)).body.secrets).toEqual([]);
    expect((await owner.delete(`${policiesUrl(vault)}/${deny.id}`)).status).toBe(204);
    expect((await admin.api.get(url)).status).toBe(200);
  });
});

describe("derived token scopes", () => {
  it("are the patterns of the agent's live allow policies, and ** once it created a vault", async () => {
    const { agentId, api } = await addAgent(server, ownerToken);
    expect(await derivedScopesForAgent(server.rt.db, agentId)).toEqual([]);
    await grant(owner, vault, { principal_type: "agent", principal_id: agentId, secret_path_pattern: "db/**" });
    await grant(owner, vault, { principal_type: "agent", principal_id: agentId, secret_path_pattern: "api-keys/*" });
    await grant(owner, vault, { principal_type: "agent", principal_id: agentId, secret_path_pattern: "db/**", permissions: ["write"] });
    await grant(owner, vault, { principal_type: "agent", principal_id: agentId, secret_path_pattern: "secret/*", effect: "deny" });
    const expiring = await grant(owner, vault, { principal_type: "agent", principal_id: agentId, secret_path_pattern: "old/*" });
    await server.rt.db.policy.update({ where: { id: expiring.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    // …followed by the agent's own SSH key in the system vault, which it may always read.
    expect(await derivedScopesForAgent(server.rt.db, agentId)).toEqual(["api-keys/*", "db/**", `agents/${agentId}`]);
    expect((await api.post("/v1/vaults", { name: `own-${agentId.slice(0, 8)}` })).status).toBe(201);
    expect(await derivedScopesForAgent(server.rt.db, agentId)).toEqual(["**"]);
  });
});
