import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueEmail, verificationTokenFrom } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp";

/**
 * Pre-registration (account squatting): signing up with someone else's address must gain nothing —
 * neither access once the mailbox owner verifies, nor the power to keep the owner out (sign-up or
 * invitation). And sign-up must not reveal whether an address has an account (same status and body
 * shape; the mail to the address tells its owner).
 */
let smtp: TestSmtpServer;
let server: TestServer;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  smtp = await startSmtpServer();
  server = await startTestServer({ env: { TALON_SMTP_URL: smtp.url } });
  api = client(server.url);
});
afterAll(async () => {
  await server?.close();
  await smtp?.close();
});

const SQUATTER_PASSWORD = "the squatter chose this one";
const OWNER_PASSWORD = "only the mailbox owner knows";

/** Waits for the `n`-th mail to `to` and returns it. */
async function nthMailTo(to: string, n: number) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const mails = smtp.messages.filter((m) => m.envelopeTo.includes(to.toLowerCase()));
    if (mails.length >= n) return mails[n - 1]!;
    if (Date.now() > deadline) throw new Error(`only ${mails.length} mails to ${to}, expected ${n}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const mailCount = (to: string) => smtp.messages.filter((m) => m.envelopeTo.includes(to.toLowerCase())).length;
const login = (email: string, password: string) => api.post("/v1/auth/token", { email, password });

async function verifiedOwner() {
  const email = uniqueEmail("owner");
  expect((await api.post("/v1/auth/signup", { email, password: OWNER_PASSWORD })).status).toBe(201);
  const verified = await api.post("/v1/auth/verify-email", { token: verificationTokenFrom(await nthMailTo(email, 1)) });
  expect(verified.status).toBe(200);
  const me = await client(server.url, verified.body.access_token).get("/v1/auth/me");
  return { email, token: verified.body.access_token as string, userId: me.body.id as string, orgId: me.body.org_id as string };
}

describe("sign-up answers the same for existing and new addresses", () => {
  it("same status and body shape; the owner of the existing account is told, and nothing changes", async () => {
    const owner = await verifiedOwner();
    const fresh = await api.post("/v1/auth/signup", { email: uniqueEmail("fresh"), password: SQUATTER_PASSWORD });
    const taken = await api.post("/v1/auth/signup", { email: owner.email, password: SQUATTER_PASSWORD });
    expect(taken.status).toBe(fresh.status);
    expect(taken.status).toBe(201);
    expect(Object.keys(taken.body).sort()).toEqual(Object.keys(fresh.body).sort());
    expect(taken.body.message).toBe(fresh.body.message);
    expect(taken.body.email).toBe(owner.email);
    expect(taken.body.user_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(taken.body.user_id).not.toBe(owner.userId);

    const notice = await nthMailTo(owner.email, 2);
    expect(notice.text).toMatch(/tried to create a new Talon account with this email address/);
    expect(notice.text).toContain("/forgot-password");
    expect(notice.text).not.toMatch(/token=/);

    // Nothing changed: one account, the owner's password still works, the squatter's does not.
    expect(await server.rt.db.user.count({ where: { email: owner.email } })).toBe(1);
    expect((await login(owner.email, SQUATTER_PASSWORD)).status).toBe(401);
    expect((await login(owner.email, OWNER_PASSWORD)).status).toBe(200);
  });

  it("a second sign-up for a waiting address answers the same and does not reveal the first (fresh user_id)", async () => {
    const email = uniqueEmail("waiting");
    const first = await api.post("/v1/auth/signup", { email, password: SQUATTER_PASSWORD });
    const second = await api.post("/v1/auth/signup", { email, password: OWNER_PASSWORD });
    expect(second.status).toBe(201);
    expect(Object.keys(second.body).sort()).toEqual(Object.keys(first.body).sort());
    expect(second.body.user_id).not.toBe(first.body.user_id);
  });
});

describe("a squatter gains no access when the mailbox owner verifies", () => {
  it("owner signs up after the squatter: a fresh link reaches the mailbox; verifying needs a password, and only the owner's works", async () => {
    const email = uniqueEmail("victim");
    expect((await api.post("/v1/auth/signup", { email, password: SQUATTER_PASSWORD, display_name: "Squatter Org" })).status).toBe(201);
    const squatterUser = await server.rt.db.user.findUniqueOrThrow({ where: { email } });
    // The owner's own sign-up is not refused: it mails a fresh link and leaves the account alone.
    expect((await api.post("/v1/auth/signup", { email, password: OWNER_PASSWORD })).status).toBe(201);
    const fresh = await nthMailTo(email, 2);
    expect(fresh.text).toMatch(/signed up for Talon again/);
    const token = verificationTokenFrom(fresh);
    expect((await server.rt.db.user.findUniqueOrThrow({ where: { email } })).passwordHash).toBe(squatterUser.passwordHash);

    // Nobody can know whose password the account holds: verifying without one is refused, naming the field.
    const bare = await api.post("/v1/auth/verify-email", { token });
    expect(bare.status).toBe(400);
    expect(bare.body.fields).toEqual([{ field: "password", message: expect.stringMatching(/required/) }]);
    expect((await server.rt.db.user.findUniqueOrThrow({ where: { email } })).emailVerifiedAt).toBeNull();

    const verified = await api.post("/v1/auth/verify-email", { token, password: OWNER_PASSWORD });
    expect(verified.status).toBe(200);
    expect(Object.keys(verified.body).sort()).toEqual(["access_token", "expires_in", "refresh_token", "token_type"]);
    expect((await login(email, SQUATTER_PASSWORD)).status).toBe(401);
    expect((await login(email, OWNER_PASSWORD)).status).toBe(200);
    // The squatter's own link (the first mail) died with the verification, and their names are gone.
    expect((await api.post("/v1/auth/verify-email", { token: verificationTokenFrom(await nthMailTo(email, 1)), password: SQUATTER_PASSWORD })).status).toBe(400);
    const me = await client(server.url, verified.body.access_token).get("/v1/auth/me");
    expect(me.body.display_name).toBe("");
    expect((await server.rt.db.org.findUniqueOrThrow({ where: { id: me.body.org_id } })).name).toBe(email);
  });

  it("owner verifies a sign-up they did not make, choosing a password: the squatter's password stops working", async () => {
    const email = uniqueEmail("victim");
    expect((await api.post("/v1/auth/signup", { email, password: SQUATTER_PASSWORD })).status).toBe(201);
    const before = await server.rt.db.user.findUniqueOrThrow({ where: { email } });
    const verified = await api.post("/v1/auth/verify-email", { token: verificationTokenFrom(await nthMailTo(email, 1)), password: OWNER_PASSWORD });
    expect(verified.status).toBe(200);
    const after = await server.rt.db.user.findUniqueOrThrow({ where: { email } });
    expect(after.tokenVersion).toBe(before.tokenVersion + 1);
    expect(after.emailVerifiedAt).toBeInstanceOf(Date);
    expect((await login(email, SQUATTER_PASSWORD)).status).toBe(401);
    expect((await login(email, OWNER_PASSWORD)).status).toBe(200);
    expect((await client(server.url, verified.body.access_token).get("/v1/auth/me")).status).toBe(200);
  });

  it("positive control: a single sign-up still verifies with the token alone (the card's shape)", async () => {
    const email = uniqueEmail("plain");
    expect((await api.post("/v1/auth/signup", { email, password: OWNER_PASSWORD })).status).toBe(201);
    const verified = await api.post("/v1/auth/verify-email", { token: verificationTokenFrom(await nthMailTo(email, 1)) });
    expect(verified.status).toBe(200);
    expect((await login(email, OWNER_PASSWORD)).status).toBe(200);
  });
});

describe("a squatter cannot block the owner", () => {
  it("an unverified sign-up older than 24 h is replaced by the next sign-up, organisation and all", async () => {
    const email = uniqueEmail("stale");
    expect((await api.post("/v1/auth/signup", { email, password: SQUATTER_PASSWORD })).status).toBe(201);
    const stale = await server.rt.db.user.findUniqueOrThrow({ where: { email } });
    const staleLink = verificationTokenFrom(await nthMailTo(email, 1));
    await server.rt.db.user.update({ where: { id: stale.id }, data: { createdAt: new Date(Date.now() - 25 * 60 * 60 * 1000) } });

    expect((await api.post("/v1/auth/signup", { email, password: OWNER_PASSWORD })).status).toBe(201);
    const replaced = await server.rt.db.user.findUniqueOrThrow({ where: { email } });
    expect(replaced.id).not.toBe(stale.id);
    expect(await server.rt.db.org.findUnique({ where: { id: stale.orgId } })).toBeNull();
    expect((await api.post("/v1/auth/verify-email", { token: staleLink })).status).toBe(400);

    // The new sign-up is an ordinary one: its link verifies with the token alone, with the owner's password.
    expect((await api.post("/v1/auth/verify-email", { token: verificationTokenFrom(await nthMailTo(email, 2)) })).status).toBe(200);
    expect((await login(email, OWNER_PASSWORD)).status).toBe(200);
    expect((await login(email, SQUATTER_PASSWORD)).status).toBe(401);
  });

  it("an invitation to an address with an unverified account works, and replaces that account", async () => {
    const inviter = await verifiedOwner();
    const email = uniqueEmail("invitee");
    expect((await api.post("/v1/auth/signup", { email, password: SQUATTER_PASSWORD })).status).toBe(201);
    const squatted = await server.rt.db.user.findUniqueOrThrow({ where: { email } });

    const invite = await client(server.url, inviter.token).post("/v1/org/invitations", { email, role: "member" });
    expect(invite.status).toBe(201);
    const inviteMail = smtp.messages.filter((m) => m.envelopeTo.includes(email)).find((m) => /invited/.test(m.subject))!;
    const inviteToken = /invite#token=([A-Za-z0-9_-]+)/.exec(inviteMail.text)![1]!;
    const accepted = await api.post("/v1/org/invitations/accept", { token: inviteToken, password: OWNER_PASSWORD });
    expect(accepted.status).toBe(201);

    const me = await client(server.url, accepted.body.access_token).get("/v1/auth/me");
    expect(me.body).toMatchObject({ email, org_id: inviter.orgId, role: "member", email_verified: true });
    expect(await server.rt.db.user.findUnique({ where: { id: squatted.id } })).toBeNull();
    expect(await server.rt.db.org.findUnique({ where: { id: squatted.orgId } })).toBeNull();
    expect((await login(email, SQUATTER_PASSWORD)).status).toBe(401);
    expect((await login(email, OWNER_PASSWORD)).status).toBe(200);
  });

  it("positive control: an address with a verified account still cannot be invited (409)", async () => {
    const inviter = await verifiedOwner();
    const other = await verifiedOwner();
    const sent = mailCount(other.email);
    expect((await client(server.url, inviter.token).post("/v1/org/invitations", { email: other.email, role: "member" })).status).toBe(409);
    expect(mailCount(other.email)).toBe(sent);
  });
});
