import { createHash, randomUUID } from "node:crypto";
import { statSync } from "node:fs";
import path from "node:path";
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../../server/identity/passwords";
import { outboxTokenFor, readOutbox, signUpVerified, uniqueEmail, verificationTokenFrom } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp";

let server: TestServer;
let api: ReturnType<typeof client>;

// This file signs in far more often than the per-IP auth-route budget allows; that limit has its own tests.
const noAuthRateLimit = { TALON_RATE_LIMIT_AUTH_PER_MINUTE: "0" };

beforeAll(async () => {
  server = await startTestServer({ env: noAuthRateLimit });
  api = client(server.url);
});
afterAll(async () => {
  await server?.close();
});

const PASSWORD = "correct horse battery";
const withoutRequestId = (b: Record<string, unknown>) => ({ ...b, request_id: undefined });

describe("signup → verify → login", () => {
  it("signs up, mails a link, verifies, logs in and reads /me", async () => {
    const email = uniqueEmail("ada");
    const signup = await api.post("/v1/auth/signup", { email: `  ${email.toUpperCase()} `, password: PASSWORD, display_name: "Ada" });
    expect(signup.status).toBe(201);
    expect(signup.body).toEqual({ message: expect.any(String), user_id: expect.stringMatching(/^[0-9a-f-]{36}$/), email });
    expect(signup.text).not.toContain("token");

    const mail = readOutbox(server).find((m) => m.to === email)!;
    expect(mail.subject).toMatch(/verify/i);
    const token = verificationTokenFrom(mail);
    expect(mail.text).toContain(`/verify-email#token=${token}`);
    expect(mail.text.split("\n")).toContain(token); // the bare token too, for API-only users
    expect(statSync(path.join(server.dataDir, "outbox")).mode & 0o777).toBe(0o700);
    expect(statSync(mail.file).mode & 0o777).toBe(0o600);
    // Only the hash of the verification token is stored.
    const stored = await server.rt.db.emailToken.findFirst({ where: { userId: signup.body.user_id } });
    expect(stored?.tokenHash).toBe(createHash("sha256").update(token).digest("hex"));

    const verified = await api.post("/v1/auth/verify-email", { token });
    expect(verified.status).toBe(200);
    expect(verified.body).toEqual({ access_token: expect.any(String), token_type: "Bearer", expires_in: 900, refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });

    const login = await api.post("/v1/auth/token", { email, password: PASSWORD });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ access_token: expect.any(String), token_type: "Bearer", expires_in: 900, refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });

    const me = await api.withToken(login.body.access_token).get("/v1/auth/me");
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      id: signup.body.user_id,
      email,
      display_name: "Ada",
      org_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      role: "owner",
      email_verified: true,
      marketing_emails: false,
      auth_method: "password",
      totp_enabled: false,
      created_at: expect.any(String),
    });
    const org = await server.rt.db.org.findUnique({ where: { id: me.body.org_id } });
    expect(org?.name).toBe("Ada");

    const actions = (await server.rt.db.auditEvent.findMany({ where: { resourceId: signup.body.user_id }, orderBy: { createdAt: "asc" } })).map((e) => [e.action, e.orgId, e.actorId]);
    expect(actions).toEqual([
      ["auth.signup", me.body.org_id, `user:${me.body.id}`],
      ["auth.verify_email", me.body.org_id, `user:${me.body.id}`],
      ["auth.success", me.body.org_id, `user:${me.body.id}`],
    ]);
  });

  it("never creates a second account for the same email, whatever its case (and answers as for a new one)", async () => {
    const email = uniqueEmail("dup");
    const first = await api.post("/v1/auth/signup", { email, password: PASSWORD });
    expect(first.status).toBe(201);
    const again = await api.post("/v1/auth/signup", { email: email.toUpperCase(), password: `${PASSWORD} 2` });
    expect(again.status).toBe(201);
    expect(Object.keys(again.body).sort()).toEqual(Object.keys(first.body).sort());
    expect(again.body.user_id).not.toBe(first.body.user_id);
    expect(await server.rt.db.user.count({ where: { email } })).toBe(1);
  });

  it("rejects a short password, naming the field", async () => {
    const res = await api.post("/v1/auth/signup", { email: uniqueEmail(), password: "short-11chr" });
    expect(res.status).toBe(400);
    expect(res.body.fields).toEqual([{ field: "password", message: expect.stringMatching(/12/) }]);
    const ok = await api.post("/v1/auth/signup", { email: uniqueEmail(), password: "exactly12chr" });
    expect(ok.status).toBe(201);
  });

  it("rejects an unknown field, naming it, and a malformed email", async () => {
    const res = await api.post("/v1/auth/signup", { email: uniqueEmail(), password: PASSWORD, is_admin: true });
    expect(res.status).toBe(400);
    expect(res.body.fields).toEqual([{ field: "is_admin", message: "unknown field" }]);
    const bad = await api.post("/v1/auth/signup", { email: "not-an-email", password: PASSWORD });
    expect(bad.status).toBe(400);
    expect(bad.body.fields[0].field).toBe("email");
  });

  it("answers a wrong password and an unknown email with the same 401, in comparable time", async () => {
    const acct = await signUpVerified(server);
    const wrong = await api.post("/v1/auth/token", { email: acct.email, password: "wrong password!" });
    const unknown = await api.post("/v1/auth/token", { email: uniqueEmail("nobody"), password: "wrong password!" });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(withoutRequestId(wrong.body)).toEqual(withoutRequestId(unknown.body));
    expect(wrong.body.detail).toBe("Invalid credentials");

    // Both paths run one Argon2 verification; without the dummy hash the unknown one would be ~50x faster.
    const time = async (email: string) => {
      const t0 = performance.now();
      await api.post("/v1/auth/token", { email, password: "wrong password!" });
      return performance.now() - t0;
    };
    const known: number[] = [];
    const unknownTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      known.push(await time(acct.email));
      unknownTimes.push(await time(uniqueEmail("nobody")));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[2]!;
    expect(median(unknownTimes) / median(known)).toBeGreaterThan(0.5);

    const failures = await server.rt.db.auditEvent.findMany({ where: { action: "auth.failure", resourceId: acct.userId } });
    expect(failures.length).toBeGreaterThanOrEqual(6);
    expect(failures[0]!.orgId).toBe(acct.orgId);
  });

  it("refuses an unverified account with 403 (only with the right password)", async () => {
    const email = uniqueEmail("unverified");
    expect((await api.post("/v1/auth/signup", { email, password: PASSWORD })).status).toBe(201);
    const res = await api.post("/v1/auth/token", { email, password: PASSWORD });
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/verif/i);
    const wrong = await api.post("/v1/auth/token", { email, password: "wrong password!" });
    expect(wrong.status).toBe(401);
  });

  it("accepts a verification token once, even when two requests race", async () => {
    const email = uniqueEmail("once");
    expect((await api.post("/v1/auth/signup", { email, password: PASSWORD })).status).toBe(201);
    const token = outboxTokenFor(server, email);
    const [a, b] = await Promise.all([api.post("/v1/auth/verify-email", { token }), api.post("/v1/auth/verify-email", { token })]);
    expect([a.status, b.status].sort()).toEqual([200, 400]);
    const third = await api.post("/v1/auth/verify-email", { token });
    expect(third.status).toBe(400);
    expect(third.body.fields).toEqual([{ field: "token", message: expect.any(String) }]);
    expect((await api.post("/v1/auth/verify-email", { token: "x".repeat(43) })).status).toBe(400);
  });

  it("refuses an expired verification token", async () => {
    const email = uniqueEmail("expired");
    const signup = await api.post("/v1/auth/signup", { email, password: PASSWORD });
    await server.rt.db.emailToken.updateMany({ where: { userId: signup.body.user_id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const res = await api.post("/v1/auth/verify-email", { token: outboxTokenFor(server, email) });
    expect(res.status).toBe(400);
  });
});

describe("user tokens", () => {
  it("is a JWT that verifies against /.well-known/jwks.json", async () => {
    const acct = await signUpVerified(server);
    const jwks = await api.get("/.well-known/jwks.json");
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys).toEqual([{ kty: "OKP", crv: "Ed25519", x: expect.any(String), kid: expect.any(String), alg: "EdDSA", use: "sig" }]);

    const { payload, protectedHeader } = await jwtVerify(acct.token, createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`)), {
      issuer: server.rt.config.publicUrl,
      audience: "talon-api",
      algorithms: ["EdDSA"],
    });
    expect(protectedHeader).toEqual({ alg: "EdDSA", typ: "JWT", kid: jwks.body.keys[0].kid });
    expect(payload).toMatchObject({ sub: `user:${acct.userId}`, org: acct.orgId, tv: 0, jti: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(decodeProtectedHeader(acct.token).kid).toBe(jwks.body.keys[0].kid);
  });

  it("dies when the user's token version is bumped (password change)", async () => {
    const acct = await signUpVerified(server);
    const me = client(server.url, acct.token);
    expect((await me.get("/v1/auth/me")).status).toBe(200);
    await server.rt.db.user.update({ where: { id: acct.userId }, data: { tokenVersion: { increment: 1 } } });
    const res = await me.get("/v1/auth/me");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
    const fresh = await api.post("/v1/auth/token", { email: acct.email, password: acct.password });
    expect((await client(server.url, fresh.body.access_token).get("/v1/auth/me")).status).toBe(200);
  });
});

describe("personal API keys", () => {
  it("creates, lists masked, authenticates, and stops working once deleted", async () => {
    const acct = await signUpVerified(server);
    const user = client(server.url, acct.token);
    const created = await user.post("/v1/auth/api-keys", { name: "laptop", scopes: ["ci/*"], expires_at: new Date(Date.now() + 86_400_000).toISOString() });
    expect(created.status).toBe(201);
    const key: string = created.body.api_key;
    expect(key).toMatch(/^1ck_[A-Za-z0-9_-]{43}$/);
    expect(created.body.key).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: "laptop",
      key_prefix: key.slice(0, 16),
      scopes: ["ci/*"],
      is_active: true,
      created_at: expect.any(String),
      expires_at: expect.any(String),
      last_used_at: null,
    });
    const row = await server.rt.db.apiKey.findUnique({ where: { id: created.body.key.id } });
    expect(row?.keyHash).toBe(createHash("sha256").update(key).digest("hex"));

    const list = await user.get("/v1/auth/api-keys");
    expect(list.status).toBe(200);
    expect(list.body.api_keys).toEqual([created.body.key]);
    expect(list.text).not.toContain(key);
    expect(list.text).not.toContain(key.slice(16));

    const viaKey = client(server.url, key);
    const me = await viaKey.get("/v1/auth/me");
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(acct.userId);
    const used = await server.rt.db.apiKey.findUnique({ where: { id: created.body.key.id } });
    expect(used?.lastUsedAt).toBeInstanceOf(Date);
    expect((await viaKey.get("/v1/auth/me")).status).toBe(200);
    const again = await server.rt.db.apiKey.findUnique({ where: { id: created.body.key.id } });
    expect(again?.lastUsedAt?.getTime()).toBe(used?.lastUsedAt?.getTime()); // no write on every request

    // A key cannot mint further keys; the session token (positive control above) can.
    expect((await viaKey.post("/v1/auth/api-keys", { name: "child" })).status).toBe(403);

    expect((await user.delete(`/v1/auth/api-keys/${created.body.key.id}`)).status).toBe(204);
    expect((await viaKey.get("/v1/auth/me")).status).toBe(401);
    expect((await user.delete(`/v1/auth/api-keys/${created.body.key.id}`)).status).toBe(404);
    expect((await user.get("/v1/auth/api-keys")).body.api_keys).toEqual([]);

    const audit = await server.rt.db.auditEvent.findMany({ where: { resourceId: created.body.key.id }, orderBy: { createdAt: "asc" } });
    expect(audit.map((e) => [e.action, e.actorId, e.orgId])).toEqual([
      ["api_key.create", `user:${acct.userId}`, acct.orgId],
      ["api_key.revoke", `user:${acct.userId}`, acct.orgId],
    ]);
  });

  it("keeps another user's key out of reach: 404, and the key still works for its owner", async () => {
    const owner = await signUpVerified(server);
    const other = await signUpVerified(server);
    const created = await client(server.url, owner.token).post("/v1/auth/api-keys", { name: "mine" });
    expect(created.status).toBe(201);
    expect((await client(server.url, other.token).delete(`/v1/auth/api-keys/${created.body.key.id}`)).status).toBe(404);
    expect((await client(server.url, other.token).get("/v1/auth/api-keys")).body.api_keys).toEqual([]);
    expect((await client(server.url, created.body.api_key).get("/v1/auth/me")).status).toBe(200);
  });

  it("refuses an expired key, and validates the request", async () => {
    const acct = await signUpVerified(server);
    const user = client(server.url, acct.token);
    const created = await user.post("/v1/auth/api-keys", { name: "short-lived" });
    const viaKey = client(server.url, created.body.api_key);
    expect((await viaKey.get("/v1/auth/me")).status).toBe(200);
    await server.rt.db.apiKey.update({ where: { id: created.body.key.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await viaKey.get("/v1/auth/me")).status).toBe(401);

    const past = await user.post("/v1/auth/api-keys", { name: "x", expires_at: new Date(Date.now() - 1000).toISOString() });
    expect(past.status).toBe(400);
    expect(past.body.fields).toEqual([{ field: "expires_at", message: "must be in the future" }]);
    expect((await user.post("/v1/auth/api-keys", { name: "" })).body.fields[0].field).toBe("name");
    expect((await user.post("/v1/auth/api-keys", { name: "x", scopes: Array(33).fill("s") })).status).toBe(400);
  });
});

describe("change-password", () => {
  it("needs the current password; then every old access and refresh token dies", async () => {
    const acct = await signUpVerified(server);
    const session = (await api.post("/v1/auth/token", { email: acct.email, password: acct.password })).body;
    const me = client(server.url, acct.token);
    const newPassword = "a brand new password";

    const wrong = await me.post("/v1/auth/change-password", { current_password: "not my password", new_password: newPassword });
    expect(wrong.status).toBe(400);
    expect(wrong.body.fields).toEqual([{ field: "current_password", message: "not correct" }]);
    const short = await me.post("/v1/auth/change-password", { current_password: acct.password, new_password: "short" });
    expect(short.status).toBe(400);
    expect(short.body.fields[0].field).toBe("new_password");
    expect((await me.get("/v1/auth/me")).status).toBe(200);

    expect((await me.post("/v1/auth/change-password", { current_password: acct.password, new_password: newPassword })).status).toBe(204);
    expect((await me.get("/v1/auth/me")).status).toBe(401);
    expect((await client(server.url, session.access_token).get("/v1/auth/me")).status).toBe(401);
    expect((await api.post("/v1/auth/refresh", { refresh_token: session.refresh_token })).status).toBe(401);
    expect((await api.post("/v1/auth/token", { email: acct.email, password: acct.password })).status).toBe(401);
    const fresh = await api.post("/v1/auth/token", { email: acct.email, password: newPassword });
    expect(fresh.status).toBe(200);
    expect((await client(server.url, fresh.body.access_token).get("/v1/auth/me")).status).toBe(200);

    const events = await server.rt.db.auditEvent.findMany({ where: { resourceId: acct.userId } });
    expect(events.map((e) => e.action)).toContain("auth.password_change");
    expect(JSON.stringify(events)).not.toContain(newPassword);
  });

  it("is refused to a personal API key (403), which keeps working for reads", async () => {
    const acct = await signUpVerified(server);
    const key = (await client(server.url, acct.token).post("/v1/auth/api-keys", { name: "k" })).body.api_key;
    const res = await client(server.url, key).post("/v1/auth/change-password", { current_password: acct.password, new_password: "a brand new password" });
    expect(res.status).toBe(403);
    expect((await client(server.url, key).get("/v1/auth/me")).status).toBe(200);
  });
});

describe("PATCH /v1/auth/me", () => {
  it("updates display name and marketing preference, and nothing else", async () => {
    const acct = await signUpVerified(server, { displayName: "Before" });
    const me = client(server.url, acct.token);
    const res = await me.patch("/v1/auth/me", { display_name: "  After ", marketing_emails: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: acct.userId, display_name: "After", marketing_emails: true, email: acct.email });
    expect((await me.patch("/v1/auth/me", { marketing_emails: false })).body).toMatchObject({ display_name: "After", marketing_emails: false });
    const bad = await me.patch("/v1/auth/me", { email: "evil@example.test" });
    expect(bad.status).toBe(400);
    expect(bad.body.fields).toEqual([{ field: "email", message: "unknown field" }]);
    expect((await me.patch("/v1/auth/me", { display_name: "x".repeat(256) })).status).toBe(400);
    const updates = await server.rt.db.auditEvent.findMany({ where: { resourceId: acct.userId, action: "user.update" }, orderBy: { createdAt: "asc" } });
    expect(updates.map((e) => JSON.parse(e.details))).toEqual([{ fields: "display_name,marketing_emails" }, { fields: "marketing_emails" }]);
  });
});

describe("DELETE /v1/auth/me", () => {
  async function addMember(orgId: string, role: "owner" | "admin" | "member") {
    const email = uniqueEmail(role);
    const password = "member password!";
    const id = randomUUID();
    await server.rt.db.user.create({ data: { id, orgId, email, passwordHash: await hashPassword(password), role, emailVerifiedAt: new Date() } });
    const token = (await api.post("/v1/auth/token", { email, password })).body.access_token as string;
    return { id, token };
  }

  it("needs the exact confirmation; a sole member takes the organisation and its vaults along", async () => {
    const acct = await signUpVerified(server);
    const me = client(server.url, acct.token);
    const vault = await me.post("/v1/vaults", { name: "doomed" });
    expect(vault.status).toBe(201);
    const bad = await me.delete("/v1/auth/me", { confirmation: "delete my account" });
    expect(bad.status).toBe(400);
    expect(bad.body.fields[0].field).toBe("confirmation");
    expect((await me.get("/v1/auth/me")).status).toBe(200);

    expect((await me.delete("/v1/auth/me", { confirmation: "DELETE MY ACCOUNT" })).status).toBe(204);
    expect((await me.get("/v1/auth/me")).status).toBe(401);
    expect(await server.rt.db.user.count({ where: { id: acct.userId } })).toBe(0);
    expect(await server.rt.db.org.count({ where: { id: acct.orgId } })).toBe(0);
    expect(await server.rt.db.vault.count({ where: { id: vault.body.id } })).toBe(0);
    expect((await api.post("/v1/auth/token", { email: acct.email, password: acct.password })).status).toBe(401);
    const event = await server.rt.db.auditEvent.findFirst({ where: { resourceId: acct.userId, action: "user.delete" } });
    expect(JSON.parse(event!.details)).toEqual({ org_deleted: true });
  });

  it("refuses the last owner of an organisation with other members (409); members may leave", async () => {
    const acct = await signUpVerified(server);
    const member = await addMember(acct.orgId, "member");
    const owner = client(server.url, acct.token);
    const refused = await owner.delete("/v1/auth/me", { confirmation: "DELETE MY ACCOUNT" });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/last owner/);
    expect((await owner.get("/v1/auth/me")).status).toBe(200);

    expect((await client(server.url, member.token).delete("/v1/auth/me", { confirmation: "DELETE MY ACCOUNT" })).status).toBe(204);
    expect(await server.rt.db.org.count({ where: { id: acct.orgId } })).toBe(1);
    expect(await server.rt.db.user.count({ where: { id: member.id } })).toBe(0);

    // With a second owner, the first may go and the organisation stays.
    const coOwner = await addMember(acct.orgId, "owner");
    expect((await owner.delete("/v1/auth/me", { confirmation: "DELETE MY ACCOUNT" })).status).toBe(204);
    expect(await server.rt.db.org.count({ where: { id: acct.orgId } })).toBe(1);
    expect((await client(server.url, coOwner.token).get("/v1/auth/me")).status).toBe(200);
  });
});

describe("POST /v1/auth/api-key-token", () => {
  it("exchanges a live personal key for a user token, and nothing else", async () => {
    const acct = await signUpVerified(server);
    const user = client(server.url, acct.token);
    const created = await user.post("/v1/auth/api-keys", { name: "ci", expires_at: new Date(Date.now() + 120_000).toISOString() });
    const res = await api.post("/v1/auth/api-key-token", { api_key: created.body.api_key });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: "Bearer", expires_in: expect.any(Number) });
    // Never outlives the key.
    expect(res.body.expires_in).toBeGreaterThan(100);
    expect(res.body.expires_in).toBeLessThanOrEqual(120);
    const me = await client(server.url, res.body.access_token).get("/v1/auth/me");
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(acct.userId);
    expect(decodeJwt(res.body.access_token)).toMatchObject({ sub: `user:${acct.userId}`, amr: ["api_key"], akid: created.body.key.id });

    expect((await api.post("/v1/auth/api-key-token", { api_key: `1ck_${"A".repeat(43)}` })).status).toBe(401);
    expect((await api.post("/v1/auth/api-key-token", { api_key: "ocv_whatever" })).status).toBe(401);
    expect((await api.post("/v1/auth/api-key-token", { api_key: acct.token.slice(0, 128) })).status).toBe(401);
    // It stands for the key: it cannot mint keys or change the password, and dies with the key.
    const viaExchanged = client(server.url, res.body.access_token);
    expect((await viaExchanged.post("/v1/auth/api-keys", { name: "child" })).status).toBe(403);
    expect((await viaExchanged.post("/v1/auth/change-password", { current_password: acct.password, new_password: "a brand new password" })).status).toBe(403);
    expect((await user.delete(`/v1/auth/api-keys/${created.body.key.id}`)).status).toBe(204);
    expect((await viaExchanged.get("/v1/auth/me")).status).toBe(401);
    expect((await api.post("/v1/auth/api-key-token", { api_key: created.body.api_key })).status).toBe(401);

    const methods = (await server.rt.db.auditEvent.findMany({ where: { action: { in: ["auth.success", "auth.failure"] } } })).map((e) => JSON.parse(e.details).method);
    expect(methods).toContain("api_key_token");
    const all = JSON.stringify(await server.rt.db.auditEvent.findMany());
    expect(all).not.toContain(created.body.api_key);
  });
});

// One process serves one PKCS#11 token (the main server's), so these extra servers use the local
// keystore; mail delivery does not touch the keystore.
const localKeystore = { TALON_KEYSTORE: "local", ...noAuthRateLimit };

describe("mail over SMTP", () => {
  let smtp: TestSmtpServer;
  let smtpServer: TestServer;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    smtpServer = await startTestServer({ env: { ...localKeystore, TALON_SMTP_URL: smtp.url } });
  });
  afterAll(async () => {
    await smtpServer?.close();
    await smtp?.close();
  });

  it("delivers the verification mail to the SMTP server, and its token verifies", async () => {
    const email = uniqueEmail("smtp");
    const signup = await client(smtpServer.url).post("/v1/auth/signup", { email, password: PASSWORD });
    expect(signup.status).toBe(201);
    const mail = await smtp.waitForMail(email);
    expect(mail.to).toBe(email);
    const verified = await client(smtpServer.url).post("/v1/auth/verify-email", { token: verificationTokenFrom(mail) });
    expect(verified.status).toBe(200);
    expect(readOutbox(smtpServer)).toEqual([]);
  });

  it("creates nothing when the mail cannot be sent: 503, and the address stays free", async () => {
    const dead = await startSmtpServer();
    await dead.close(); // a port with nothing listening
    const broken = await startTestServer({ env: { ...localKeystore, TALON_SMTP_URL: dead.url } });
    try {
      const email = uniqueEmail("nomail");
      const res = await client(broken.url).post("/v1/auth/signup", { email, password: PASSWORD });
      expect(res.status).toBe(503);
      expect(await broken.rt.db.user.count({ where: { email } })).toBe(0);
    } finally {
      await broken.close();
    }
  });
});
