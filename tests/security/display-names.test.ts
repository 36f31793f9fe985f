import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quoteName } from "../../server/mail/quote";
import { signUpVerified, uniqueEmail } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp";

/**
 * Names people choose (display names, and the organisation name a sign-up derives from one) carry no
 * control characters or line breaks, have a length bound, and never become a clickable link in a
 * mail Talon sends.
 */
let server: TestServer;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  server = await startTestServer();
  api = client(server.url);
});
afterAll(async () => {
  await server?.close();
});

const PASSWORD = "a long enough password";
const BAD_NAMES: [string, string][] = [
  ["a newline", "Ada\nBcc: victim@example.test"],
  ["a carriage return", "Ada\r\nLovelace"],
  ["a tab", "Ada\tLovelace"],
  ["a NUL", "Ada\u0000"],
  ["a right-to-left override", "Ada \u202Egnp.exe"],
  ["a zero-width space", "Ad\u200Ba"],
  ["a line separator", "Ada\u2028Lovelace"],
];

describe("display names at sign-up, in the profile and on invitation", () => {
  it.each(BAD_NAMES)("refuses %s with a 400 naming display_name, and creates nothing", async (_, name) => {
    const email = uniqueEmail("names");
    const res = await api.post("/v1/auth/signup", { email, password: PASSWORD, display_name: name });
    expect(res.status).toBe(400);
    expect(res.body.fields).toEqual([{ field: "display_name", message: expect.stringMatching(/control characters|line breaks/) }]);
    expect(await server.rt.db.user.count({ where: { email } })).toBe(0);
  });

  it("bounds the length (128) — positive control: an ordinary accented name up to the bound is fine", async () => {
    const tooLong = await api.post("/v1/auth/signup", { email: uniqueEmail("long"), password: PASSWORD, display_name: "a".repeat(129) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.fields[0].field).toBe("display_name");
    expect((await api.post("/v1/auth/signup", { email: uniqueEmail("ok"), password: PASSWORD, display_name: "Zoë O'Brien-Łukasik" })).status).toBe(201);
    expect((await api.post("/v1/auth/signup", { email: uniqueEmail("ok"), password: PASSWORD, display_name: "a".repeat(128) })).status).toBe(201);
  });

  it("PATCH /v1/auth/me applies the same rule and changes nothing on refusal", async () => {
    const acct = await signUpVerified(server, { displayName: "Before" });
    const me = client(server.url, acct.token);
    const refused = await me.patch("/v1/auth/me", { display_name: "After\nInjected line" });
    expect(refused.status).toBe(400);
    expect(refused.body.fields[0].field).toBe("display_name");
    expect((await me.get("/v1/auth/me")).body.display_name).toBe("Before");
    expect((await me.patch("/v1/auth/me", { display_name: "After" })).body.display_name).toBe("After");
  });

  it("accepting an invitation applies the same rule", async () => {
    const res = await api.post("/v1/org/invitations/accept", { token: "x".repeat(43), password: PASSWORD, display_name: "Eve\r\nAdmin" });
    expect(res.status).toBe(400);
    expect(res.body.fields[0].field).toBe("display_name");
  });
});

describe("names in mail are never clickable links", () => {
  it("quoteName defangs URLs, domains and addresses but keeps ordinary names readable", () => {
    expect(quoteName("Ada Lovelace")).toBe('"Ada Lovelace"');
    expect(quoteName("J. R. R. Tolkien")).toBe('"J. R. R. Tolkien"');
    const evil = quoteName("Reset at https://evil.example/login or www.evil.example, mail help@evil.example, 10.0.0.1");
    expect(evil).not.toMatch(/https?:\/\//);
    expect(evil).not.toMatch(/[a-z0-9]\.[a-z0-9]/i);
    expect(evil).not.toContain("@");
    expect(evil).toContain("https[:]//evil[.]example/login");
    expect(evil).toContain("help[at]evil[.]example");
  });

  it("an organisation named like a link reaches the invitee's mailbox as plain, quoted text", async () => {
    const smtp: TestSmtpServer = await startSmtpServer();
    const mailing = await startTestServer({ env: { TALON_KEYSTORE: "local", TALON_SMTP_URL: smtp.url } });
    try {
      const c = client(mailing.url);
      const email = uniqueEmail("inviter");
      const orgName = "Security team: verify at https://evil.example/login";
      expect((await c.post("/v1/auth/signup", { email, password: PASSWORD, display_name: orgName })).status).toBe(201);
      const token = /verify-email#token=([A-Za-z0-9_-]+)/.exec((await smtp.waitForMail(email)).text)![1]!;
      const inviter = await c.post("/v1/auth/verify-email", { token });
      const invitee = uniqueEmail("invitee");
      expect((await client(mailing.url, inviter.body.access_token).post("/v1/org/invitations", { email: invitee, role: "member" })).status).toBe(201);
      const mail = await smtp.waitForMail(invitee);
      expect(mail.text).toContain('the organisation "Security team: verify at https[:]//evil[.]example/login"');
      expect(mail.text).not.toContain("evil.example");
      // Positive control: the mail's own link is intact and clickable.
      expect(mail.text).toMatch(/^http:\/\/\S+\/invite#token=[A-Za-z0-9_-]+$/m);
    } finally {
      await mailing.close();
      await smtp.close();
    }
  });
});
