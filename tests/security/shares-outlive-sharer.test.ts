import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, addOrgUser, grant, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * A share is its creator's read handed on, so it never outlives it: every access re-checks that the
 * creator may still read the path (member removed, policy deleted, agent deleted → 410), it serves the
 * version it was created for unless created to follow the latest, deleting the secret ends it for good,
 * and org owners and admins can list and revoke every share of the org. Each 410/403 sits beside the
 * same share or actor succeeding before the change.
 */
let server: TestServer;
let owner: ReturnType<typeof client>;
let ownerToken: string;
let orgId: string;
let vault: string;
let secretId: string;
const anon = () => client(server.url);
const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();
const SHARER_GONE = "the person who shared this no longer has access";

async function linkShare(as: ReturnType<typeof client>, id: string, extra: Record<string, unknown> = {}) {
  const res = await as.post(`/v1/secrets/${id}/share`, { recipient_type: "anyone_with_link", expires_at: inDays(1), max_access_count: 0, ...extra });
  if (res.status !== 201) throw new Error(`share failed: ${res.status} ${res.text}`);
  return res.body as { id: string; version: number | null; follow_latest: boolean };
}

async function expectSharerGone(shareId: string) {
  const res = await anon().get(`/v1/share/${shareId}`);
  expect(res.status).toBe(410);
  expect(res.body.detail.toLowerCase()).toBe(SHARER_GONE);
  expect(res.text).not.toContain("db-secret");
}

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  const acct = await signUpVerified(server);
  orgId = acct.orgId;
  await server.rt.db.org.update({ where: { id: orgId }, data: { tier: "enterprise" } });
  owner = client(server.url, acct.token);
  ownerToken = acct.token;
  vault = (await owner.post("/v1/vaults", { name: "team" })).body.id;
  secretId = (await owner.put(`/v1/vaults/${vault}/secrets/db/password`, { value: "db-secret-v1", type: "password" })).body.id;
});
afterAll(async () => {
  await server?.close();
});
beforeEach(async () => {
  await server.rt.db.rateCounter.deleteMany({ where: { key: { startsWith: "share-create:" } } });
});

describe("the sharer's access is re-checked on every access", () => {
  it("a removed member's share answers 410", async () => {
    const member = await addOrgUser(server, orgId, "member");
    await grant(owner, vault, { principal_type: "user", principal_id: member.userId, secret_path_pattern: "db/*", permissions: ["read"] });
    const s = await linkShare(member.api, secretId);
    expect((await anon().get(`/v1/share/${s.id}`)).status).toBe(200);
    expect((await owner.delete(`/v1/org/members/${member.userId}`)).status).toBe(204);
    await expectSharerGone(s.id);
  });

  it("deleting the policy that let the member read ends the share's service; granting it again restores it", async () => {
    const member = await addOrgUser(server, orgId, "member");
    const policy = await grant(owner, vault, { principal_type: "user", principal_id: member.userId, secret_path_pattern: "db/*", permissions: ["read"] });
    const s = await linkShare(member.api, secretId);
    expect((await anon().get(`/v1/share/${s.id}`)).status).toBe(200);
    expect((await owner.delete(`/v1/vaults/${vault}/policies/${policy.id}`)).status).toBe(204);
    await expectSharerGone(s.id);
    await grant(owner, vault, { principal_type: "user", principal_id: member.userId, secret_path_pattern: "db/*", permissions: ["read"] });
    expect((await anon().get(`/v1/share/${s.id}`)).status).toBe(200);
  });

  it("a deny policy added for the sharer ends the share's service", async () => {
    const member = await addOrgUser(server, orgId, "member");
    await grant(owner, vault, { principal_type: "user", principal_id: member.userId, secret_path_pattern: "db/*", permissions: ["read"] });
    const s = await linkShare(member.api, secretId);
    expect((await anon().get(`/v1/share/${s.id}`)).status).toBe(200);
    await grant(owner, vault, { principal_type: "user", principal_id: member.userId, secret_path_pattern: "db/password", permissions: ["read"], effect: "deny" });
    await expectSharerGone(s.id);
  });

  it("a deleted agent's share answers 410; a deactivated agent's too", async () => {
    for (const end of ["delete", "deactivate"] as const) {
      const agent = await addAgent(server, ownerToken);
      await grant(owner, vault, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "db/*", permissions: ["read"] });
      const s = await linkShare(agent.api, secretId);
      expect((await anon().get(`/v1/share/${s.id}`)).status).toBe(200);
      const res = end === "delete" ? await owner.delete(`/v1/agents/${agent.agentId}`) : await owner.patch(`/v1/agents/${agent.agentId}`, { is_active: false });
      expect(res.status, end).toBeLessThan(300);
      await expectSharerGone(s.id);
    }
  });

  it("a targeted share stops too: the recipient gets 410 once the sharer lost access", async () => {
    const sharer = await addOrgUser(server, orgId, "member");
    const reader = await addOrgUser(server, orgId, "member");
    const policy = await grant(owner, vault, { principal_type: "user", principal_id: sharer.userId, secret_path_pattern: "db/*", permissions: ["read"] });
    const s = await sharer.api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "user", recipient_id: reader.userId, expires_at: inDays(1) });
    expect((await reader.api.post(`/v1/shares/${s.body.id}/accept`)).status).toBe(204);
    expect((await reader.api.get(`/v1/share/${s.body.id}`)).status).toBe(200);
    await owner.delete(`/v1/vaults/${vault}/policies/${policy.id}`);
    const gone = await reader.api.get(`/v1/share/${s.body.id}`);
    expect(gone.status).toBe(410);
    expect(gone.body.detail.toLowerCase()).toBe(SHARER_GONE);
  });
});

describe("versions", () => {
  it("a share serves the version it was created for by default; a follow-latest share serves the current one", async () => {
    const id = (await owner.put(`/v1/vaults/${vault}/secrets/app/token`, { value: "token-v1" })).body.id;
    const pinned = await linkShare(owner, id);
    expect(pinned).toMatchObject({ version: 1, follow_latest: false });
    const follows = await linkShare(owner, id, { follow_latest: true });
    expect(follows).toMatchObject({ version: null, follow_latest: true });
    expect((await owner.put(`/v1/vaults/${vault}/secrets/app/token`, { value: "token-v2" })).status).toBe(201);

    expect((await anon().get(`/v1/share/${pinned.id}`)).body).toMatchObject({ value: "token-v1", version: 1 });
    expect((await anon().get(`/v1/share/${follows.id}`)).body).toMatchObject({ value: "token-v2", version: 2 });
    const listed = (await owner.get("/v1/shares/outbound")).body.shares as { id: string; version: number | null; follow_latest: boolean }[];
    expect(listed.find((s) => s.id === pinned.id)).toMatchObject({ version: 1, follow_latest: false });
    expect(listed.find((s) => s.id === follows.id)).toMatchObject({ version: null, follow_latest: true });

    // Disabling the pinned version ends what the pinned share can serve; the other goes on.
    expect((await owner.post(`/v1/vaults/${vault}/secret-version-disable/app/token/1`)).status).toBeLessThan(300);
    expect((await anon().get(`/v1/share/${pinned.id}`)).status).toBe(410);
    expect((await anon().get(`/v1/share/${follows.id}`)).status).toBe(200);
  });

  it("deleting a secret ends its shares for good: re-creating the path does not revive them; a new share of it works", async () => {
    const id = (await owner.put(`/v1/vaults/${vault}/secrets/tmp/once`, { value: "first-life" })).body.id;
    const pinned = await linkShare(owner, id);
    const follows = await linkShare(owner, id, { follow_latest: true });
    expect((await anon().get(`/v1/share/${follows.id}`)).status).toBe(200);
    expect((await owner.delete(`/v1/vaults/${vault}/secrets/tmp/once`)).status).toBe(204);
    expect((await owner.put(`/v1/vaults/${vault}/secrets/tmp/once`, { value: "second-life" })).status).toBe(201);
    for (const s of [pinned, follows]) {
      const res = await anon().get(`/v1/share/${s.id}`);
      expect(res.status).toBe(410);
      expect(res.text).not.toContain("life");
      expect(await server.rt.db.share.findUnique({ where: { id: s.id } })).toMatchObject({ endReason: "secret_deleted", endedAt: expect.any(Date) });
    }
    const fresh = await linkShare(owner, id);
    expect((await anon().get(`/v1/share/${fresh.id}`)).body.value).toBe("second-life");
  });
});

describe("owners and admins oversee every share of the org", () => {
  it("an admin lists (scope=org) and revokes a member's share; a member gets 403 on scope=org and cannot revoke others' shares", async () => {
    const admin = await addOrgUser(server, orgId, "admin");
    const member = await addOrgUser(server, orgId, "member");
    const other = await addOrgUser(server, orgId, "member");
    for (const u of [member, other]) await grant(owner, vault, { principal_type: "user", principal_id: u.userId, secret_path_pattern: "db/*", permissions: ["read"] });
    const s = await linkShare(member.api, secretId);
    const mine = await linkShare(other.api, secretId);

    const org = await admin.api.get("/v1/shares?scope=org");
    expect(org.status).toBe(200);
    expect(org.body.shares).toEqual(expect.arrayContaining([expect.objectContaining({ id: s.id, created_by: `user:${member.userId}`, secret_path: "db/password" })]));
    expect((await owner.get("/v1/shares?scope=org")).body.shares.map((x: { id: string }) => x.id)).toContain(mine.id);

    const refused = await member.api.get("/v1/shares?scope=org");
    expect(refused.status).toBe(403);
    expect((await member.api.get("/v1/shares")).body.shares.map((x: { id: string }) => x.id)).toEqual([s.id]);
    expect((await member.api.get("/v1/shares?scope=everything")).status).toBe(400);
    const agent = await addAgent(server, ownerToken);
    expect((await agent.api.get("/v1/shares?scope=org")).status).toBe(403);

    expect((await other.api.delete(`/v1/share/${s.id}`)).status).toBe(404);
    expect((await anon().get(`/v1/share/${s.id}`)).status).toBe(200);
    expect((await admin.api.delete(`/v1/share/${s.id}`)).status).toBe(204);
    expect((await anon().get(`/v1/share/${s.id}`)).status).toBe(404);
    expect((await admin.api.get("/v1/shares?scope=org")).body.shares.map((x: { id: string }) => x.id)).not.toContain(s.id);
    expect((await other.api.delete(`/v1/share/${mine.id}`)).status).toBe(204);
    const revoke = await server.rt.db.auditEvent.findFirst({ where: { action: "share.revoke", resourceId: s.id } });
    expect(revoke!.actorId).toBe(`user:${admin.userId}`);
  });

  it("another org's admin cannot list or revoke this org's shares", async () => {
    const s = await linkShare(owner, secretId);
    const stranger = await signUpVerified(server);
    const theirs = client(server.url, stranger.token);
    expect((await theirs.get("/v1/shares?scope=org")).body.shares.map((x: { id: string }) => x.id)).not.toContain(s.id);
    expect((await theirs.delete(`/v1/share/${s.id}`)).status).toBe(404);
    expect((await anon().get(`/v1/share/${s.id}`)).status).toBe(200);
  });
});
