import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { agentToken, registerAgent } from "../helpers/agents";
import { client } from "../helpers/http";
import { addOrgUser, grant, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Removing a member deactivates the agents they registered, in the same transaction: their keys and
 * tokens fail on the next request. Owners and admins see why, and may reassign or reactivate them.
 */
let server: TestServer;
let orgId: string;
let ownerToken: string;
let owner: ReturnType<typeof client>;
let vault: string;
const REASON = "registered by a removed member";

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  const acct = await signUpVerified(server);
  orgId = acct.orgId;
  ownerToken = acct.token;
  owner = client(server.url, ownerToken);
  vault = (await owner.post("/v1/vaults", { name: "prod" })).body.id;
  expect((await owner.put(`/v1/vaults/${vault}/secrets/db/password`, { value: "pg-secret", type: "password" })).status).toBe(201);
});
afterAll(async () => server?.close());

const secretUrl = () => `/v1/vaults/${vault}/secrets/db/password`;

/** An agent registered by `token`'s holder, allowed to read db/*, with a live token. */
async function readingAgent(token: string) {
  const a = await registerAgent(server.url, token);
  await grant(owner, vault, { principal_type: "agent", principal_id: a.id, secret_path_pattern: "db/*", permissions: ["read"] });
  const jwt = await agentToken(server.url, a.id, a.apiKey);
  expect((await client(server.url, jwt).get(secretUrl())).status).toBe(200);
  return { ...a, jwt };
}

describe("removing a member deactivates the agents they registered", () => {
  it("their agents' tokens and keys die on the next request; the owner's agent keeps working", async () => {
    const member = await addOrgUser(server, orgId, "member");
    const theirs = await readingAgent(member.token);
    const second = await readingAgent(member.token);
    const ownersAgent = await readingAgent(ownerToken);

    expect((await owner.delete(`/v1/org/members/${member.userId}`)).status).toBe(204);

    for (const a of [theirs, second]) {
      expect((await client(server.url, a.jwt).get(secretUrl())).status).toBe(401);
      expect((await client(server.url, a.apiKey).get(secretUrl())).status).toBe(401);
      expect((await client(server.url).post("/v1/auth/agent-token", { agent_id: a.id, api_key: a.apiKey })).status).toBe(401);
      const shown = await owner.get(`/v1/agents/${a.id}`);
      expect(shown.body).toMatchObject({ is_active: false, deactivated_reason: REASON, created_by: member.userId });
    }
    // Positive control: an agent registered by someone still in the org is untouched.
    expect((await client(server.url, ownersAgent.jwt).get(secretUrl())).body.value).toBe("pg-secret");
    expect((await owner.get(`/v1/agents/${ownersAgent.id}`)).body).toMatchObject({ is_active: true, deactivated_reason: null });

    const events = await server.rt.db.auditEvent.findMany({ where: { orgId, action: "agent.deactivate", resourceId: { in: [theirs.id, second.id] } } });
    expect(events).toHaveLength(2);
    expect(events.every((e) => JSON.parse(e.details).reason === REASON)).toBe(true);
  });

  it("an admin removing a member deactivates that member's agents too", async () => {
    const admin = await addOrgUser(server, orgId, "admin");
    const member = await addOrgUser(server, orgId, "member");
    const a = await readingAgent(member.token);
    expect((await admin.api.delete(`/v1/org/members/${member.userId}`)).status).toBe(204);
    expect((await client(server.url, a.jwt).get(secretUrl())).status).toBe(401);
    expect((await owner.get(`/v1/agents/${a.id}`)).body.deactivated_reason).toBe(REASON);
  });
});

describe("a member deleting their own account deactivates the agents they registered", () => {
  it("their agent stops at once; the owner's agent keeps working", async () => {
    const member = await addOrgUser(server, orgId, "member");
    const theirs = await readingAgent(member.token);
    const ownersAgent = await readingAgent(ownerToken);
    const gone = await client(server.url, member.token).delete("/v1/auth/me", { confirmation: "DELETE MY ACCOUNT" });
    expect(gone.status).toBe(204);
    expect((await client(server.url, theirs.jwt).get(secretUrl())).status).toBe(401);
    expect((await owner.get(`/v1/agents/${theirs.id}`)).body).toMatchObject({ is_active: false, deactivated_reason: REASON });
    expect((await client(server.url, ownersAgent.jwt).get(secretUrl())).status).toBe(200);
  });
});

describe("the owner decides what happens to them", () => {
  it("reactivating works and clears the reason", async () => {
    const member = await addOrgUser(server, orgId, "member");
    const a = await readingAgent(member.token);
    expect((await owner.delete(`/v1/org/members/${member.userId}`)).status).toBe(204);
    const res = await owner.patch(`/v1/agents/${a.id}`, { is_active: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ is_active: true, deactivated_reason: null });
    // The old token stays dead (its version was bumped); a fresh exchange works.
    expect((await client(server.url, a.jwt).get(secretUrl())).status).toBe(401);
    const fresh = await agentToken(server.url, a.id, a.apiKey);
    expect((await client(server.url, fresh).get(secretUrl())).body.value).toBe("pg-secret");
  });

  it("an owner reassigns to a remaining member, who then manages the agent; before, they could not", async () => {
    const leaving = await addOrgUser(server, orgId, "member");
    const staying = await addOrgUser(server, orgId, "member");
    const a = await readingAgent(leaving.token);
    expect((await owner.delete(`/v1/org/members/${leaving.userId}`)).status).toBe(204);

    expect((await staying.api.patch(`/v1/agents/${a.id}`, { name: "mine now?" })).status).toBe(403);
    // A member cannot hand agents around, not even to themselves.
    const selfAssign = await staying.api.patch(`/v1/agents/${a.id}`, { created_by: staying.userId });
    expect(selfAssign.status).toBe(403);

    const res = await owner.patch(`/v1/agents/${a.id}`, { created_by: staying.userId, is_active: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ created_by: staying.userId, is_active: true, deactivated_reason: null });
    expect((await staying.api.patch(`/v1/agents/${a.id}`, { name: "mine now" })).status).toBe(200);
    const fresh = await agentToken(server.url, a.id, a.apiKey);
    expect((await client(server.url, fresh).get("/v1/agents/me")).body.created_by).toBe(staying.userId);
  });

  it("reassigning to someone outside the org (or the removed member) is 400 naming created_by and changes nothing", async () => {
    const leaving = await addOrgUser(server, orgId, "member");
    const a = await readingAgent(leaving.token);
    expect((await owner.delete(`/v1/org/members/${leaving.userId}`)).status).toBe(204);
    const stranger = await signUpVerified(server);
    for (const to of [stranger.userId, leaving.userId, randomUUID()]) {
      const res = await owner.patch(`/v1/agents/${a.id}`, { created_by: to, is_active: true });
      expect(res.status).toBe(400);
      expect(res.body.detail).toMatch(/created_by/);
    }
    expect((await owner.get(`/v1/agents/${a.id}`)).body).toMatchObject({ is_active: false, created_by: leaving.userId, deactivated_reason: REASON });
  });

  it("a deactivation by hand records its own reason; reactivating clears it", async () => {
    const a = await readingAgent(ownerToken);
    const off = await owner.patch(`/v1/agents/${a.id}`, { is_active: false });
    expect(off.body).toMatchObject({ is_active: false, deactivated_reason: "deactivated manually" });
    expect((await owner.patch(`/v1/agents/${a.id}`, { is_active: true })).body.deactivated_reason).toBeNull();
  });
});
