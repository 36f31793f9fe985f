import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintTicket, redeemTicket, resolveSession } from "../../server/dashboard/sessions";
import { FORGOT_PASSWORD_ANSWER, RESET_MAILS_PER_HOUR } from "../../server/identity/password-reset";
import { uniqueEmail, verificationTokenFrom } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp";
import { clearOfCounterEdges } from "../helpers/windows";

/**
 * Password reset: the answer never says whether an address has an account; the mailed token (in the
 * link's fragment, stored hashed) is single use and valid 30 minutes; a reset ends every access token,
 * refresh token and dashboard session of the account, and is audited without the token or password.
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

const OLD_PASSWORD = "the password I forgot";
const NEW_PASSWORD = "a brand new passphrase";

const mailsTo = (to: string) => smtp.messages.filter((m) => m.envelopeTo.includes(to.toLowerCase()));
async function waitForMails(to: string, n: number) {
  const deadline = Date.now() + 10_000;
  while (mailsTo(to).length < n) {
    if (Date.now() > deadline) throw new Error(`only ${mailsTo(to).length} mails to ${to}, expected ${n}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return mailsTo(to);
}
const resetTokenFrom = (text: string) => {
  const m = /\/reset-password#token=([A-Za-z0-9_-]{43})\n/.exec(text);
  if (!m) throw new Error("no reset link in the mail");
  return m[1]!;
};
const login = (email: string, password: string) => api.post("/v1/auth/token", { email, password });

async function account() {
  const email = uniqueEmail("reset");
  expect((await api.post("/v1/auth/signup", { email, password: OLD_PASSWORD })).status).toBe(201);
  const verified = await api.post("/v1/auth/verify-email", { token: verificationTokenFrom((await waitForMails(email, 1))[0]!) });
  expect(verified.status).toBe(200);
  const user = await server.rt.db.user.findUniqueOrThrow({ where: { email } });
  return { email, user, access: verified.body.access_token as string, refresh: verified.body.refresh_token as string };
}

async function requestReset(email: string, expectedMails: number) {
  const res = await api.post("/v1/auth/forgot-password", { email });
  expect(res.status).toBe(202);
  return { res, token: resetTokenFrom((await waitForMails(email, expectedMails)).at(-1)!.text) };
}

describe("forgot-password", () => {
  it("answers the same whether or not the address has an account; only a real account gets mail", async () => {
    const acct = await account();
    const known = await api.post("/v1/auth/forgot-password", { email: acct.email });
    const nobody = uniqueEmail("nobody");
    const unknown = await api.post("/v1/auth/forgot-password", { email: nobody });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(unknown.body).toEqual(known.body);
    expect(known.body).toEqual({ message: FORGOT_PASSWORD_ANSWER });

    const mail = (await waitForMails(acct.email, 2))[1]!;
    expect(mail.subject).toMatch(/reset/i);
    // The token rides in the fragment, which no browser sends to a server.
    expect(mail.text).toMatch(/\/reset-password#token=[A-Za-z0-9_-]{43}\n/);
    expect(mail.text).not.toMatch(/[?&]token=/);
    await new Promise((r) => setTimeout(r, 300));
    expect(mailsTo(nobody)).toEqual([]);

    // Stored hashed, valid 30 minutes.
    const rows = await server.rt.db.emailToken.findMany({ where: { userId: acct.user.id, purpose: "reset_password" } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tokenHash).not.toContain(resetTokenFrom(mail.text));
    const ttl = rows[0]!.expiresAt.getTime() - rows[0]!.createdAt.getTime();
    expect(ttl).toBeGreaterThan(29 * 60 * 1000);
    expect(ttl).toBeLessThanOrEqual(30 * 60 * 1000 + 1000);
  });

  it(`mails an address at most ${RESET_MAILS_PER_HOUR} times an hour, answering the same throughout`, async () => {
    const acct = await account();
    await clearOfCounterEdges();
    for (let i = 0; i < RESET_MAILS_PER_HOUR + 2; i++) {
      expect((await api.post("/v1/auth/forgot-password", { email: acct.email })).body).toEqual({ message: FORGOT_PASSWORD_ANSWER });
    }
    await waitForMails(acct.email, 1 + RESET_MAILS_PER_HOUR);
    await new Promise((r) => setTimeout(r, 300));
    expect(mailsTo(acct.email)).toHaveLength(1 + RESET_MAILS_PER_HOUR);
  });

  it("validates the body, naming the field", async () => {
    const res = await api.post("/v1/auth/forgot-password", { email: "not-an-email" });
    expect(res.status).toBe(400);
    expect(res.body.fields[0].field).toBe("email");
  });
});

describe("reset-password", () => {
  it("sets the new password and ends every access token, refresh token and dashboard session", async () => {
    const acct = await account();
    const sessionCtx = { rt: server.rt, requestId: "test", ip: "127.0.0.1" };
    const sessionId = (await redeemTicket(sessionCtx, await mintTicket(server.rt, acct.user.id, "password"), "vitest"))!;
    const login1 = await login(acct.email, OLD_PASSWORD);
    expect(login1.status).toBe(200);
    // Positive control: everything works before the reset.
    expect((await client(server.url, acct.access).get("/v1/auth/me")).status).toBe(200);
    expect(await resolveSession(server.rt, sessionId)).not.toBeNull();

    const { token } = await requestReset(acct.email, 2);
    const res = await api.post("/v1/auth/reset-password", { token, new_password: NEW_PASSWORD });
    expect(res.status).toBe(204);

    expect((await client(server.url, acct.access).get("/v1/auth/me")).status).toBe(401);
    expect((await client(server.url, login1.body.access_token).get("/v1/auth/me")).status).toBe(401);
    expect((await api.post("/v1/auth/refresh", { refresh_token: acct.refresh })).status).toBe(401);
    expect((await api.post("/v1/auth/refresh", { refresh_token: login1.body.refresh_token })).status).toBe(401);
    expect(await resolveSession(server.rt, sessionId)).toBeNull();
    expect((await server.rt.db.userSession.findUniqueOrThrow({ where: { id: sessionId } })).revokedAt).toBeInstanceOf(Date);

    expect((await login(acct.email, OLD_PASSWORD)).status).toBe(401);
    expect((await login(acct.email, NEW_PASSWORD)).status).toBe(200);

    const events = await server.rt.db.auditEvent.findMany({ where: { orgId: acct.user.orgId, action: "auth.password_reset" } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorId: `user:${acct.user.id}`, resourceId: acct.user.id });
    const all = JSON.stringify(await server.rt.db.auditEvent.findMany({ where: { orgId: acct.user.orgId } }));
    expect(all).not.toContain(token);
    expect(all).not.toContain(NEW_PASSWORD);
  });

  it("a token works once; a second use, an expired token, another purpose's token and a made-up one are 400 naming the field", async () => {
    const acct = await account();
    const { token } = await requestReset(acct.email, 2);
    const [a, b] = await Promise.all([
      api.post("/v1/auth/reset-password", { token, new_password: NEW_PASSWORD }),
      api.post("/v1/auth/reset-password", { token, new_password: "the racing second password" }),
    ]);
    expect([a.status, b.status].sort()).toEqual([204, 400]);
    const third = await api.post("/v1/auth/reset-password", { token, new_password: "yet another passphrase" });
    expect(third.status).toBe(400);
    expect(third.body.fields).toEqual([{ field: "token", message: "invalid, expired or already used" }]);

    const { token: late } = await requestReset(acct.email, 3);
    await server.rt.db.emailToken.updateMany({ where: { userId: acct.user.id, purpose: "reset_password", usedAt: null }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await api.post("/v1/auth/reset-password", { token: late, new_password: NEW_PASSWORD })).status).toBe(400);

    // A verification token is no reset token.
    const other = uniqueEmail("verify-purpose");
    await api.post("/v1/auth/signup", { email: other, password: OLD_PASSWORD });
    const verifyToken = verificationTokenFrom((await waitForMails(other, 1))[0]!);
    expect((await api.post("/v1/auth/reset-password", { token: verifyToken, new_password: NEW_PASSWORD })).status).toBe(400);
    expect((await api.post("/v1/auth/reset-password", { token: "x".repeat(43), new_password: NEW_PASSWORD })).status).toBe(400);

    const short = await api.post("/v1/auth/reset-password", { token, new_password: "short" });
    expect(short.status).toBe(400);
    expect(short.body.fields[0].field).toBe("new_password");
  });

  it("a newer request replaces the earlier link", async () => {
    const acct = await account();
    const { token: first } = await requestReset(acct.email, 2);
    const { token: second } = await requestReset(acct.email, 3);
    expect((await api.post("/v1/auth/reset-password", { token: first, new_password: NEW_PASSWORD })).status).toBe(400);
    expect((await api.post("/v1/auth/reset-password", { token: second, new_password: NEW_PASSWORD })).status).toBe(204);
  });

  it("resetting an unverified sign-up's password verifies it (the link reached the mailbox) and locks out whoever signed up", async () => {
    const email = uniqueEmail("squatted");
    expect((await api.post("/v1/auth/signup", { email, password: "the squatter chose this" })).status).toBe(201);
    const { token } = await requestReset(email, 2);
    expect((await api.post("/v1/auth/reset-password", { token, new_password: NEW_PASSWORD })).status).toBe(204);
    expect((await login(email, "the squatter chose this")).status).toBe(401);
    expect((await login(email, NEW_PASSWORD)).status).toBe(200);
    // The sign-up's verification link died with the reset.
    expect((await api.post("/v1/auth/verify-email", { token: verificationTokenFrom(mailsTo(email)[0]!), password: "the squatter's second try" })).status).toBe(400);
  });
});

describe("rate limits", () => {
  it("forgot-password and reset-password share the auth routes' per-IP budget", async () => {
    const limited = await startTestServer({ env: { TALON_KEYSTORE: "local", TALON_SMTP_URL: smtp.url, TALON_RATE_LIMIT_AUTH_PER_MINUTE: "3" } });
    try {
      const c = client(limited.url);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await c.post("/v1/auth/forgot-password", { email: uniqueEmail("burst") })).status);
      expect(statuses).toEqual([202, 202, 202]);
      const over = await c.post("/v1/auth/reset-password", { token: "x".repeat(43), new_password: NEW_PASSWORD });
      expect(over.status).toBe(429);
      expect(Number(over.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect((await c.post("/v1/auth/forgot-password", { email: uniqueEmail("burst") })).status).toBe(429);
    } finally {
      await limited.close();
    }
  });
});
