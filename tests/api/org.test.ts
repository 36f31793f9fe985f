import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readOutbox, signUpVerified, uniqueEmail } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Org members and invitations over real HTTP: an invitation mailed through the outbox is accepted,
 * the new member signs in and sees the org; roles change (killing the member's tokens), members are
 * removed, the last owner is protected, and another org's people are 404.
 */
let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let ownerApi: ReturnType<typeof client>;
const MISSING = "00000000-0000-4000-8000-000000000000";

function inviteTokenFor(email: string): string {
  const mail = readOutbox(server).filter((m) => m.to.toLowerCase().includes(email)).at(-1);
  if (!mail) throw new Error(`no invitation mail to ${email}`);
  const m = /invite#token=([A-Za-z0-9_-]{20,128})/.exec(mail.text);
  if (!m) throw new Error("no invitation link in the message");
  return m[1]!;
}

/** Invites `email` with `role` as `inviter`, accepts, and returns the new member's token and id. */
async function join(inviter: ReturnType<typeof client>, role: "owner" | "admin" | "member", email = uniqueEmail(role)) {
  const inv = await inviter.post("/v1/org/invitations", { email, role });
  expect(inv.status, inv.text).toBe(201);
  const password = `pw-${randomUUID()}`;
  const acc = await client(server.url).post("/v1/org/invitations/accept", { token: inviteTokenFor(email), password, display_name: `The ${role}` });
  expect(acc.status, acc.text).toBe(201);
  const api = client(server.url, acc.body.access_token);
  const me = await api.get("/v1/auth/me");
  return { api, id: me.body.id as string, email, password, invitationId: inv.body.id as string };
}

const auditActions = async (orgId: string) => (await server.rt.db.auditEvent.findMany({ where: { orgId }, select: { action: true, details: true } }));

beforeAll(async () => {
  // Many sign-ups and accepts in a minute from one address: the auth budget is crossed in rate-limits.test.ts.
  server = await startTestServer({ env: { TALON_RATE_LIMIT_AUTH_PER_MINUTE: "0" } });
  owner = await signUpVerified(server, { displayName: "Olive Owner" });
  ownerApi = client(server.url, owner.token);
});
afterAll(async () => {
  await server?.close();
});

describe("members", () => {
  it("a new org lists its founder as the only owner", async () => {
    const res = await ownerApi.get("/v1/org/members");
    expect(res.status).toBe(200);
    expect(res.body.members).toEqual([{ id: owner.userId, email: owner.email, display_name: "Olive Owner", role: "owner", auth_method: "password", totp_enabled: false, created_at: expect.any(String) }]);
    expect((await client(server.url).get("/v1/org/members")).status).toBe(401);
  });
});

describe("invitations", () => {
  it("invite by email → accept → the new member can sign in and sees the org", async () => {
    const email = uniqueEmail("newbie");
    const inv = await ownerApi.post("/v1/org/invitations", { email: email.toUpperCase(), role: "member" });
    expect(inv.status).toBe(201);
    expect(inv.body).toMatchObject({ email, role: "member", status: "pending", invited_by: `user:${owner.userId}`, accepted_at: null });
    const token = inviteTokenFor(email);
    expect(inv.text).not.toContain(token);
    const stored = await server.rt.db.orgInvite.findUnique({ where: { id: inv.body.id } });
    expect(stored?.tokenHash).not.toContain(token);
    expect(stored!.expiresAt.getTime() - Date.now()).toBeGreaterThan(6.9 * 24 * 3600 * 1000);

    const anon = client(server.url);
    const noPassword = await anon.post("/v1/org/invitations/accept", { token });
    expect(noPassword.status).toBe(400);
    expect(noPassword.body.fields).toEqual([{ field: "password", message: expect.any(String) }]);
    expect((await anon.post("/v1/org/invitations/accept", { token, password: "too-short" })).status).toBe(400);

    const password = `pw-${randomUUID()}`;
    const accepted = await anon.post("/v1/org/invitations/accept", { token, password, display_name: "Nina Newbie" });
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({ token_type: "Bearer", access_token: expect.any(String) });
    expect((await anon.post("/v1/org/invitations/accept", { token, password })).status).toBe(400);

    const login = await anon.post("/v1/auth/token", { email, password });
    expect(login.status).toBe(200);
    const member = client(server.url, login.body.access_token);
    const me = await member.get("/v1/auth/me");
    expect(me.body).toMatchObject({ email, org_id: owner.orgId, role: "member", display_name: "Nina Newbie", email_verified: true });
    const members = await member.get("/v1/org/members");
    expect(members.status).toBe(200);
    expect(members.body.members.map((m: { email: string; role: string }) => [m.email, m.role])).toEqual([
      [owner.email, "owner"],
      [email, "member"],
    ]);

    const list = await ownerApi.get("/v1/org/invitations");
    expect(list.body.invitations.find((i: { id: string }) => i.id === inv.body.id)).toMatchObject({ status: "accepted", accepted_at: expect.any(String) });
    expect((await ownerApi.delete(`/v1/org/invitations/${inv.body.id}`)).status).toBe(409);

    const events = await auditActions(owner.orgId);
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(["invite.create", "invite.accept"]));
    for (const e of events) expect(e.details).not.toContain(token);
  });

  it("revoked and expired invitations no longer work; an address that already has an account is 409", async () => {
    const email = uniqueEmail("revoked");
    const inv = await ownerApi.post("/v1/org/invitations", { email, role: "member" });
    const token = inviteTokenFor(email);
    expect((await ownerApi.delete(`/v1/org/invitations/${inv.body.id}`)).status).toBe(204);
    expect((await ownerApi.delete(`/v1/org/invitations/${inv.body.id}`)).status).toBe(404);
    const anon = client(server.url);
    expect((await anon.post("/v1/org/invitations/accept", { token, password: `pw-${randomUUID()}` })).status).toBe(400);

    const late = uniqueEmail("late");
    const lateInv = await ownerApi.post("/v1/org/invitations", { email: late, role: "member" });
    await server.rt.db.orgInvite.update({ where: { id: lateInv.body.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await anon.post("/v1/org/invitations/accept", { token: inviteTokenFor(late), password: `pw-${randomUUID()}` })).status).toBe(400);
    expect((await ownerApi.get("/v1/org/invitations")).body.invitations.find((i: { id: string }) => i.id === lateInv.body.id).status).toBe("expired");

    const other = await signUpVerified(server);
    expect((await ownerApi.post("/v1/org/invitations", { email: other.email, role: "member" })).status).toBe(409);
    // Invited first, signed up elsewhere before accepting: the accept is refused, no second account.
    const racer = uniqueEmail("racer");
    await ownerApi.post("/v1/org/invitations", { email: racer, role: "member" });
    const racerToken = inviteTokenFor(racer);
    await signUpVerified(server, { email: racer });
    const refused = await anon.post("/v1/org/invitations/accept", { token: racerToken, password: `pw-${randomUUID()}` });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/exactly one organisation/);
    expect((await auditActions(owner.orgId)).map((e) => e.action)).toContain("invite.revoke");
  });

  it("only owners and admins manage invitations; admins cannot invite owners", async () => {
    const member = await join(ownerApi, "member");
    expect((await member.api.post("/v1/org/invitations", { email: uniqueEmail(), role: "member" })).status).toBe(403);
    expect((await member.api.get("/v1/org/invitations")).status).toBe(403);
    const admin = await join(ownerApi, "admin");
    expect((await admin.api.post("/v1/org/invitations", { email: uniqueEmail(), role: "owner" })).status).toBe(403);
    expect((await admin.api.post("/v1/org/invitations", { email: uniqueEmail(), role: "admin" })).status).toBe(201);
    expect((await admin.api.get("/v1/org/invitations")).status).toBe(200);
    expect((await ownerApi.post("/v1/org/invitations", { email: uniqueEmail(), role: "boss" })).status).toBe(400);
    expect((await ownerApi.post("/v1/org/invitations", { email: "not-an-email", role: "member" })).status).toBe(400);
    expect((await ownerApi.post("/v1/org/invitations", { email: uniqueEmail(), role: "member", org_id: owner.orgId })).status).toBe(400);
  });

  it("agents manage neither members nor invitations (403), though their key works", async () => {
    const created = await ownerApi.post("/v1/agents", { name: "org-probe" });
    expect(created.status, created.text).toBe(201);
    const agent = client(server.url, created.body.api_key);
    expect((await agent.get("/v1/agents/me")).status).toBe(200);
    expect((await agent.get("/v1/org/members")).status).toBe(403);
    expect((await agent.patch(`/v1/org/members/${owner.userId}`, { role: "member" })).status).toBe(403);
    expect((await agent.delete(`/v1/org/members/${owner.userId}`)).status).toBe(403);
    expect((await agent.post("/v1/org/invitations", { email: uniqueEmail(), role: "owner" })).status).toBe(403);
    expect((await agent.get("/v1/org/invitations")).status).toBe(403);
  });
});

describe("roles and removal", () => {
  it("a role change kills the member's existing tokens; the new role applies after signing in again", async () => {
    const m = await join(ownerApi, "member");
    const res = await ownerApi.patch(`/v1/org/members/${m.id}`, { role: "admin" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: m.id, email: m.email, role: "admin" });
    expect((await m.api.get("/v1/auth/me")).status).toBe(401);
    const login = await client(server.url).post("/v1/auth/token", { email: m.email, password: m.password });
    const me = await client(server.url, login.body.access_token).get("/v1/auth/me");
    expect(me.body.role).toBe("admin");
    const event = (await auditActions(owner.orgId)).find((e) => e.action === "member.update" && e.details.includes('"to_role":"admin"'));
    expect(event).toBeDefined();
  });

  it("only owners change roles; admins remove members but not admins or owners; members do neither", async () => {
    const admin = await join(ownerApi, "admin");
    const member = await join(ownerApi, "member");
    const member2 = await join(ownerApi, "member");
    expect((await admin.api.patch(`/v1/org/members/${member.id}`, { role: "admin" })).status).toBe(403);
    expect((await member.api.patch(`/v1/org/members/${member2.id}`, { role: "admin" })).status).toBe(403);
    expect((await member.api.delete(`/v1/org/members/${member2.id}`)).status).toBe(403);
    expect((await admin.api.delete(`/v1/org/members/${owner.userId}`)).status).toBe(403);
    const otherAdmin = await join(ownerApi, "admin");
    expect((await admin.api.delete(`/v1/org/members/${otherAdmin.id}`)).status).toBe(403);
    expect((await ownerApi.patch(`/v1/org/members/${member.id}`, { role: "superuser" })).status).toBe(400);

    expect((await admin.api.delete(`/v1/org/members/${member.id}`)).status).toBe(204);
    expect((await member.api.get("/v1/auth/me")).status).toBe(401);
    expect((await client(server.url).post("/v1/auth/token", { email: member.email, password: member.password })).status).toBe(401);
    expect((await admin.api.delete(`/v1/org/members/${member.id}`)).status).toBe(404);
    const ids = (await ownerApi.get("/v1/org/members")).body.members.map((x: { id: string }) => x.id);
    expect(ids).not.toContain(member.id);
    expect(ids).toContain(member2.id);
    expect((await auditActions(owner.orgId)).map((e) => e.action)).toContain("member.remove");
  });

  it("the last owner can be neither demoted nor removed (409); with a second owner both work", async () => {
    const demote = await ownerApi.patch(`/v1/org/members/${owner.userId}`, { role: "member" });
    expect(demote.status).toBe(409);
    expect((await ownerApi.delete(`/v1/org/members/${owner.userId}`)).status).toBe(409);
    const second = await join(ownerApi, "owner");
    expect((await second.api.get("/v1/org/members")).body.members.filter((m: { role: string }) => m.role === "owner")).toHaveLength(2);
    expect((await second.api.delete(`/v1/org/members/${second.id}`)).status).toBe(204);
    const third = await join(ownerApi, "owner");
    expect((await third.api.patch(`/v1/org/members/${owner.userId}`, { role: "admin" })).status).toBe(200);
    expect((await third.api.patch(`/v1/org/members/${third.id}`, { role: "member" })).status).toBe(409);
    expect((await third.api.patch(`/v1/org/members/${owner.userId}`, { role: "owner" })).status).toBe(200);
    const relogin = await client(server.url).post("/v1/auth/token", { email: owner.email, password: owner.password });
    ownerApi = client(server.url, relogin.body.access_token);
    expect((await ownerApi.get("/v1/auth/me")).body.role).toBe("owner");
  });

  it("six owners demoting themselves at the same time: exactly one remains owner", async () => {
    const founder = await signUpVerified(server);
    const founderApi = client(server.url, founder.token);
    const owners = [{ api: founderApi, id: founder.userId }];
    for (let i = 0; i < 5; i++) {
      const email = uniqueEmail("co-owner");
      expect((await founderApi.post("/v1/org/invitations", { email, role: "owner" })).status).toBe(201);
      const accepted = await client(server.url).post("/v1/org/invitations/accept", { token: inviteTokenFor(email), password: `pw-${randomUUID()}` });
      const api = client(server.url, accepted.body.access_token);
      owners.push({ api, id: (await api.get("/v1/auth/me")).body.id });
    }
    const results = await Promise.all(owners.map((o) => o.api.patch(`/v1/org/members/${o.id}`, { role: "member" })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 409]);
    expect(await server.rt.db.user.count({ where: { orgId: founder.orgId, role: "owner" } })).toBe(1);
  });

  it("another org's members are 404, exactly like a missing id, and invisible", async () => {
    const outsider = client(server.url, (await signUpVerified(server)).token);
    for (const id of [owner.userId, MISSING]) {
      const patch = await outsider.patch(`/v1/org/members/${id}`, { role: "member" });
      const del = await outsider.delete(`/v1/org/members/${id}`);
      expect([patch.status, del.status]).toEqual([404, 404]);
      expect(patch.body.detail).toBe("Member not found");
    }
    const invites = (await ownerApi.get("/v1/org/invitations")).body.invitations;
    expect((await outsider.delete(`/v1/org/invitations/${invites[0].id}`)).status).toBe(404);
    expect((await outsider.get("/v1/org/members")).body.members).toHaveLength(1);
    expect((await outsider.get("/v1/org/invitations")).body.invitations).toEqual([]);
    expect((await ownerApi.get("/v1/auth/me")).body.role).toBe("owner");
  });
});
