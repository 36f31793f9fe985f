import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { uniqueEmail, verificationTokenFrom } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, addOrgUser, grant, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp";

/**
 * Issue 16, sharing as the card's clients do it: `external_email` shares (humans only, a mail with a
 * one-time link whose token lives in the fragment; `recipient_email` in responses) and user shares
 * across organisations (the recipient sees them inbound and must accept; nobody else reads them).
 * Mail goes through a real SMTP server on loopback.
 */
let smtp: TestSmtpServer;
let server: TestServer;
type Account = { token: string; userId: string; orgId: string; email: string; api: ReturnType<typeof client> };
let alice: Account; // org A owner, the sharer
let bob: Account; // org B owner, a cross-org recipient
let vaultId: string;
let secretId: string;
const VALUE = `canary-${randomUUID()}`;
const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();

/** Sign-up over real HTTP with the verification link read from the SMTP server. */
async function signUp(displayName: string): Promise<Account> {
  const email = uniqueEmail("sharer");
  const api = client(server.url);
  expect((await api.post("/v1/auth/signup", { email, password: `pw-${randomUUID()}`, display_name: displayName })).status).toBe(201);
  const verified = await api.post("/v1/auth/verify-email", { token: verificationTokenFrom(await smtp.waitForMail(email)) });
  expect(verified.status).toBe(200);
  const token = verified.body.access_token as string;
  const me = await api.withToken(token).get("/v1/auth/me");
  await server.rt.db.org.update({ where: { id: me.body.org_id }, data: { tier: "enterprise" } });
  return { token, userId: me.body.id, orgId: me.body.org_id, email, api: client(server.url, token) };
}

/** The token of the newest share mail to `to`, and the whole text. */
async function shareMail(to: string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const mail = smtp.messages.filter((m) => m.envelopeTo.includes(to.toLowerCase())).at(-1);
    if (mail) {
      const m = /\/s\/([0-9a-f-]{36})#token=([A-Za-z0-9_-]{40,60})/.exec(mail.text);
      if (!m) throw new Error(`no share link in the mail: ${mail.text}`);
      return { shareId: m[1]!, token: m[2]!, text: mail.text, subject: mail.subject };
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${to}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  smtp = await startSmtpServer();
  server = await startTestServer({ env: { ...NO_RATE_LIMITS, TALON_SMTP_URL: smtp.url } });
  alice = await signUp("Alice");
  bob = await signUp("Bob");
  vaultId = (await alice.api.post("/v1/vaults", { name: "shared" })).body.id;
  secretId = (await alice.api.put(`/v1/vaults/${vaultId}/secrets/db/password`, { value: VALUE, type: "password" })).body.id;
});
afterAll(async () => {
  await server?.close();
  await smtp?.close();
});
beforeEach(async () => {
  await server.rt.db.rateCounter.deleteMany({ where: { key: { startsWith: "share-create:" } } });
});

describe("external_email shares", () => {
  it("a human creates one as the SDK sends it; the recipient's mail carries a one-time link, the sharer's answer does not", async () => {
    const to = uniqueEmail("Outsider");
    const created = await alice.api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "external_email", email: to, expires_at: inDays(2) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ recipient_type: "external_email", recipient_id: null, recipient_email: to.toLowerCase(), max_access_count: 1 });
    expect(created.body.share_url).toBe(`${server.rt.config.publicUrl}/s/${created.body.id}`);

    const mail = await shareMail(to);
    expect(mail.shareId).toBe(created.body.id);
    expect(mail.text).toContain('"Alice" shared a secret with you');
    expect(mail.text).not.toContain(VALUE);
    expect(created.text).not.toContain(mail.token);

    // Only the hash is stored; the token is in no audit event.
    const row = await server.rt.db.share.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(row.recipientEmail).toBe(to.toLowerCase());
    expect(row.linkTokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(mail.token);
    const audit = await server.rt.db.auditEvent.findMany({ where: { resourceId: created.body.id } });
    expect(audit.map((e) => e.action)).toEqual(["share.create"]);
    expect(JSON.stringify(audit)).not.toContain(mail.token);
    expect(JSON.parse(audit[0]!.details)).toMatchObject({ recipient_type: "external_email", recipient_email: to.toLowerCase() });

    const anon = client(server.url);
    // The share id alone, a wrong token, or the token in a query string: 404, no read used.
    expect((await anon.get(`/v1/share/${created.body.id}`)).status).toBe(404);
    // (The last two characters changed to ones they are not: a token that happened to end in "AA" made this a right one.)
    const wrong = mail.token.slice(0, -2) + (mail.token.endsWith("AA") ? "BA" : "AA");
    expect((await anon.get(`/v1/share/${created.body.id}`, { "X-Share-Token": wrong })).status).toBe(404);
    expect((await anon.get(`/v1/share/${created.body.id}?token=${mail.token}`)).status).toBe(404);
    // The sharer's own credentials are not the link's.
    expect((await alice.api.get(`/v1/share/${created.body.id}`)).status).toBe(404);

    const read = await anon.get(`/v1/share/${created.body.id}`, { "X-Share-Token": mail.token });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: created.body.id, path: "db/password", value: VALUE, access_count: 1, max_access_count: 1 });
    // One-time: the second use of the same link is over.
    const again = await anon.get(`/v1/share/${created.body.id}`, { "X-Share-Token": mail.token });
    expect(again.status).toBe(410);
    expect(again.text).not.toContain(VALUE);

    const outbound = await alice.api.get("/v1/shares/outbound");
    expect(outbound.body.shares.find((s: { id: string }) => s.id === created.body.id)).toMatchObject({ recipient_type: "external_email", recipient_email: to.toLowerCase(), access_count: 1 });
  });

  it("keeps the other share rules: passphrase, more reads when asked, revocation", async () => {
    const to = uniqueEmail("pp");
    const created = await alice.api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "external_email", email: to, expires_at: inDays(1), max_access_count: 2, passphrase: "correct horse battery" });
    expect(created.status).toBe(201);
    const { token, text } = await shareMail(to);
    expect(text).toContain("passphrase");
    expect(text).not.toContain("correct horse battery");
    const anon = client(server.url);
    expect((await anon.get(`/v1/share/${created.body.id}`, { "X-Share-Token": token })).status).toBe(401);
    expect((await anon.get(`/v1/share/${created.body.id}`, { "X-Share-Token": token, "X-Share-Passphrase": "wrong passphrase" })).status).toBe(403);
    const ok = await anon.get(`/v1/share/${created.body.id}`, { "X-Share-Token": token, "X-Share-Passphrase": "correct horse battery" });
    expect(ok.status).toBe(200);
    expect(ok.body.access_count).toBe(1);
    expect((await alice.api.delete(`/v1/share/${created.body.id}`)).status).toBe(204);
    expect((await anon.get(`/v1/share/${created.body.id}`, { "X-Share-Token": token, "X-Share-Passphrase": "correct horse battery" })).status).toBe(404);
  });

  it("re-checks the sharer on every access: a sharer who lost the path ends the link (410)", async () => {
    const member = await addOrgUser(server, alice.orgId, "member");
    const policy = await grant(alice.api, vaultId, { principal_type: "user", principal_id: member.userId, secret_path_pattern: "db/**", permissions: ["read"] });
    const to = uniqueEmail("recheck");
    const created = await member.api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "external_email", email: to, expires_at: inDays(1), max_access_count: 3 });
    expect(created.status).toBe(201);
    const { token } = await shareMail(to);
    const anon = client(server.url);
    expect((await anon.get(`/v1/share/${created.body.id}`, { "X-Share-Token": token })).status).toBe(200);
    expect((await alice.api.delete(`/v1/vaults/${vaultId}/policies/${policy.id}`)).status).toBe(204);
    const after = await anon.get(`/v1/share/${created.body.id}`, { "X-Share-Token": token });
    expect(after.status).toBe(410);
    expect(after.text).not.toContain(VALUE);
  });

  it("refuses agents with 403 (the card's rule), beside a link share the same agent may create", async () => {
    const agent = await addAgent(server, alice.token);
    await grant(alice.api, vaultId, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "db/**", permissions: ["read"] });
    const sent = smtp.messages.length;
    const refused = await agent.api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "external_email", email: uniqueEmail("phish"), expires_at: inDays(1) });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/Agents cannot create email shares/);
    const allowed = await agent.api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "anyone_with_link", expires_at: inDays(1) });
    expect(allowed.status).toBe(201);
    expect(smtp.messages.length).toBe(sent);
  });

  it("400 naming the field: email missing, or recipient_id on an email share", async () => {
    const missing = await alice.api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "external_email", expires_at: inDays(1) });
    expect(missing.status).toBe(400);
    expect(missing.text).toContain("email");
    const withId = await alice.api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "external_email", email: uniqueEmail(), recipient_id: bob.userId, expires_at: inDays(1) });
    expect(withId.status).toBe(400);
    expect(withId.text).toContain("recipient_id");
    const notAnAddress = await alice.api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "external_email", email: "not-an-address", expires_at: inDays(1) });
    expect(notAnAddress.status).toBe(400);
  });
});

describe("user shares across organisations", () => {
  for (const by of ["recipient_id", "email"] as const) {
    it(`names a user of another org by ${by}: inbound for them, accept first, then read; 404 for everyone else`, async () => {
      const body = by === "recipient_id" ? { recipient_id: bob.userId } : { email: bob.email.toUpperCase() };
      const created = await alice.api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "user", ...body, expires_at: inDays(1) });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ recipient_type: "user", recipient_id: bob.userId, recipient_email: null });

      const inbound = await bob.api.get("/v1/shares/inbound");
      expect(inbound.status).toBe(200);
      expect(inbound.body.shares.find((s: { id: string }) => s.id === created.body.id)).toMatchObject({ secret_path: "db/password", is_accepted: false, recipient_id: bob.userId });
      expect((await bob.api.get(`/v1/share/${created.body.id}`)).status).toBe(403);

      // Nobody else in either org: another member of Bob's org, Bob's org's admin, an agent of Bob's org.
      const bobsMember = await addOrgUser(server, bob.orgId, "admin");
      const bobsAgent = await addAgent(server, bob.token);
      for (const other of [bobsMember.api, bobsAgent.api]) {
        expect((await other.post(`/v1/shares/${created.body.id}/accept`)).status).toBe(404);
        expect((await other.get(`/v1/share/${created.body.id}`)).status).toBe(404);
        expect((await other.get("/v1/shares/inbound")).body.shares.map((s: { id: string }) => s.id)).not.toContain(created.body.id);
        expect((await other.delete(`/v1/share/${created.body.id}`)).status).toBe(404);
      }
      // In Alice's org, another member is not its recipient either (403, as for any share sent to someone else).
      const alicesMember = await addOrgUser(server, alice.orgId, "member");
      expect((await alicesMember.api.post(`/v1/shares/${created.body.id}/accept`)).status).toBe(404);
      expect((await alicesMember.api.get(`/v1/share/${created.body.id}`)).status).toBe(403);
      expect((await client(server.url).get(`/v1/share/${created.body.id}`)).status).toBe(401);

      expect((await bob.api.post(`/v1/shares/${created.body.id}/accept`)).status).toBe(204);
      const read = await bob.api.get(`/v1/share/${created.body.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ path: "db/password", value: VALUE, access_count: 1 });
      for (const other of [bobsMember.api, bobsAgent.api]) expect((await other.get(`/v1/share/${created.body.id}`)).status).toBe(404);
      expect((await alicesMember.api.get(`/v1/share/${created.body.id}`)).status).toBe(403);

      // The read is in the sharer's org's audit log; Bob's org cannot list or revoke Alice's share.
      const access = await server.rt.db.auditEvent.findMany({ where: { action: "share.access", resourceId: created.body.id } });
      expect(access).toHaveLength(1);
      expect(access[0]).toMatchObject({ orgId: alice.orgId, actorId: `user:${bob.userId}` });
      expect((await bob.api.delete(`/v1/share/${created.body.id}`)).status).toBe(404);
      expect((await alice.api.delete(`/v1/share/${created.body.id}`)).status).toBe(204);
      expect((await bob.api.get(`/v1/share/${created.body.id}`)).status).toBe(404);
    });
  }

  it("never sends to another org's agent, nor to an unknown address; an unverified account is unknown", async () => {
    const bobsAgent = await addAgent(server, bob.token);
    const toAgent = await alice.api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "agent", recipient_id: bobsAgent.agentId, expires_at: inDays(1) });
    expect(toAgent.status).toBe(400);
    expect(toAgent.text).toContain("recipient_id");
    const unknown = await alice.api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "user", email: uniqueEmail("nobody"), expires_at: inDays(1) });
    expect(unknown.status).toBe(400);
    expect(unknown.body.fields).toEqual([{ field: "email", message: "no such user" }]);
    const pending = uniqueEmail("pending");
    expect((await client(server.url).post("/v1/auth/signup", { email: pending, password: `pw-${randomUUID()}` })).status).toBe(201);
    const unverified = await alice.api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "user", email: pending, expires_at: inDays(1) });
    expect(unverified.status).toBe(400);
    const both = await alice.api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "user", email: bob.email, recipient_id: bob.userId, expires_at: inDays(1) });
    expect(both.status).toBe(400);
  });
});
