import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rewrapMfaSecrets } from "../../server/identity/mfa";
import { base32Decode, currentStep, totpCode } from "../../server/identity/totp";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";
import { clearOfCounterEdges } from "../helpers/windows";

let server: TestServer;
let api: ReturnType<typeof client>;
const MFA_FAILURE_LIMIT = 5;

beforeAll(async () => {
  server = await startTestServer({ env: { TALON_RATE_LIMIT_AUTH_PER_MINUTE: "0", TALON_MFA_MAX_FAILURES_PER_15_MIN: String(MFA_FAILURE_LIMIT) } });
  api = client(server.url);
});
afterAll(async () => {
  await server?.close();
});

/**
 * Codes for the current step and the next: the server accepts ±1 step, and if a step boundary passes
 * between here and the server, "now" becomes the server's "previous" and "next" its "now" — both still
 * inside the window.
 */
const codeAt = (secret: string, offset: number) => totpCode(base32Decode(secret), currentStep() + offset);

async function enrol(acct: { token: string }) {
  const me = client(server.url, acct.token);
  const setup = await me.post("/v1/auth/mfa/setup");
  expect(setup.status).toBe(200);
  const secret: string = setup.body.secret;
  const enrolCode = codeAt(secret, 0);
  const done = await me.post("/v1/auth/mfa/verify-setup", { code: enrolCode });
  expect(done.status).toBe(200);
  return { secret, enrolCode, recoveryCodes: done.body.recovery_codes as string[] };
}

describe("TOTP", () => {
  it("matches the RFC 6238 SHA-1 test vectors (last six digits)", () => {
    const secret = Buffer.from("12345678901234567890");
    const vectors: [number, string][] = [
      [59, "287082"],
      [1111111109, "081804"],
      [1111111111, "050471"],
      [1234567890, "005924"],
      [2000000000, "279037"],
    ];
    for (const [t, code] of vectors) expect(totpCode(secret, Math.floor(t / 30))).toBe(code);
  });
});

describe("MFA enrolment", () => {
  it("sets up with a sealed secret, confirms with a code, and hands out ten recovery codes stored hashed", async () => {
    const acct = await signUpVerified(server, { email: `mfa-${Date.now()}@example.test` });
    const me = client(server.url, acct.token);
    expect((await me.get("/v1/auth/mfa/status")).body).toEqual({ enabled: false, recovery_codes_remaining: 0 });

    const setup = await me.post("/v1/auth/mfa/setup");
    expect(setup.status).toBe(200);
    expect(setup.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(setup.body.otpauth_uri);
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.searchParams.get("secret")).toBe(setup.body.secret);
    expect(uri.searchParams.get("issuer")).toBe("Talon");
    expect(decodeURIComponent(uri.pathname)).toContain(acct.email);

    const row = await server.rt.db.user.findUnique({ where: { id: acct.userId } });
    const raw = base32Decode(setup.body.secret);
    expect(row?.mfaPendingSecret).toBeTruthy();
    expect(Buffer.from(row!.mfaPendingSecret!).includes(raw)).toBe(false); // sealed, not stored in clear
    expect(row?.mfaEnabled).toBe(false);

    const wrong = await me.post("/v1/auth/mfa/verify-setup", { code: codeAt(setup.body.secret, 5) });
    expect(wrong.status).toBe(400);
    expect(wrong.body.fields).toEqual([{ field: "code", message: expect.any(String) }]);

    const done = await me.post("/v1/auth/mfa/verify-setup", { code: codeAt(setup.body.secret, 0) });
    expect(done.status).toBe(200);
    const codes: string[] = done.body.recovery_codes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/);
    const stored = await server.rt.db.recoveryCode.findMany({ where: { userId: acct.userId } });
    expect(stored).toHaveLength(10);
    expect(stored.map((s) => s.codeHash).join()).not.toContain(codes[0]);

    const enabled = await server.rt.db.user.findUnique({ where: { id: acct.userId } });
    expect(enabled).toMatchObject({ mfaEnabled: true, mfaPendingSecret: null });
    expect(Buffer.from(enabled!.mfaSecret!)).toEqual(Buffer.from(row!.mfaPendingSecret!));
    expect((await me.get("/v1/auth/mfa/status")).body).toEqual({ enabled: true, recovery_codes_remaining: 10 });
    expect((await me.post("/v1/auth/mfa/setup")).status).toBe(409);

    const events = await server.rt.db.auditEvent.findMany({ where: { resourceId: acct.userId } });
    expect(events.map((e) => e.action)).toContain("auth.mfa_enable");
    const everything = JSON.stringify(events);
    expect(everything).not.toContain(setup.body.secret);
    for (const c of codes) expect(everything).not.toContain(c);
  });

  it("needs a signed-in session: a personal API key cannot turn MFA on or off", async () => {
    const acct = await signUpVerified(server);
    const key = (await client(server.url, acct.token).post("/v1/auth/api-keys", { name: "k" })).body.api_key;
    expect((await client(server.url, key).post("/v1/auth/mfa/setup")).status).toBe(403);
    expect((await client(server.url, key).get("/v1/auth/mfa/status")).status).toBe(200);
    expect((await client(server.url, acct.token).post("/v1/auth/mfa/setup")).status).toBe(200);
    expect((await api.post("/v1/auth/mfa/setup")).status).toBe(401);
  });
});

describe("MFA sign-in", () => {
  it("answers a challenge, accepts a code once, and the challenge token is no access token", async () => {
    const acct = await signUpVerified(server);
    const { secret, enrolCode, recoveryCodes } = await enrol(acct);

    const login = await api.post("/v1/auth/token", { email: acct.email, password: acct.password });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ mfa_required: true, mfa_token: expect.any(String) });
    const mfaToken: string = login.body.mfa_token;
    expect((await client(server.url, mfaToken).get("/v1/auth/me")).status).toBe(401);
    expect((await api.post("/v1/auth/refresh", { refresh_token: mfaToken.slice(0, 128) })).status).toBe(401);

    // The step used to confirm enrolment is spent.
    const replay = await api.post("/v1/auth/mfa/verify", { mfa_token: mfaToken, code: enrolCode });
    expect(replay.status).toBe(401);
    const ok = await api.post("/v1/auth/mfa/verify", { mfa_token: mfaToken, code: codeAt(secret, 1) });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ access_token: expect.any(String), token_type: "Bearer", expires_in: 900, refresh_token: expect.any(String) });
    expect((await client(server.url, ok.body.access_token).get("/v1/auth/me")).body.id).toBe(acct.userId);
    expect((await api.post("/v1/auth/mfa/verify", { mfa_token: mfaToken, code: codeAt(secret, 1) })).status).toBe(401);

    // A recovery code works once.
    const again = (await api.post("/v1/auth/token", { email: acct.email, password: acct.password })).body.mfa_token;
    expect((await api.post("/v1/auth/mfa/verify", { mfa_token: again, code: recoveryCodes[0]!.toLowerCase() })).status).toBe(200);
    expect((await api.post("/v1/auth/mfa/verify", { mfa_token: again, code: recoveryCodes[0] })).status).toBe(401);
    expect((await client(server.url, ok.body.access_token).get("/v1/auth/mfa/status")).body).toEqual({ enabled: true, recovery_codes_remaining: 9 });

    // A garbage or foreign-audience token is refused.
    expect((await api.post("/v1/auth/mfa/verify", { mfa_token: ok.body.access_token, code: recoveryCodes[1] })).status).toBe(401);
    expect((await api.post("/v1/auth/mfa/verify", { mfa_token: "x.y.z", code: recoveryCodes[1] })).status).toBe(401);

    const methods = (await server.rt.db.auditEvent.findMany({ where: { resourceId: acct.userId, action: { in: ["auth.success", "auth.failure"] } } }))
      .map((e) => [e.action, JSON.parse(e.details).method]);
    expect(methods).toContainEqual(["auth.success", "mfa"]);
    expect(methods).toContainEqual(["auth.failure", "mfa"]);
  });

  it("accepts a TOTP code exactly once when two verifications race", async () => {
    const acct = await signUpVerified(server);
    const { secret } = await enrol(acct);
    const [t1, t2] = await Promise.all([1, 2].map(async () => (await api.post("/v1/auth/token", { email: acct.email, password: acct.password })).body.mfa_token as string));
    const code = codeAt(secret, 1);
    const results = await Promise.all([t1, t2].map((t) => api.post("/v1/auth/mfa/verify", { mfa_token: t, code })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it("limits wrong codes per user: 429 with Retry-After, even for the right code, while other users are unaffected", async () => {
    const acct = await signUpVerified(server);
    const other = await signUpVerified(server);
    const { recoveryCodes } = await enrol(acct);
    const otherCodes = (await enrol(other)).recoveryCodes;
    const token = (await api.post("/v1/auth/token", { email: acct.email, password: acct.password })).body.mfa_token;
    await clearOfCounterEdges();
    for (let i = 0; i < MFA_FAILURE_LIMIT; i++) {
      expect((await api.post("/v1/auth/mfa/verify", { mfa_token: token, code: "AAAA-AAAA-AAAA-AAAA" })).status).toBe(401);
    }
    const limited = await api.post("/v1/auth/mfa/verify", { mfa_token: token, code: recoveryCodes[0] });
    expect(limited.status).toBe(429);
    const retry = Number(limited.headers.get("retry-after"));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(900);
    // The recovery code was not consumed by the refused attempt.
    expect(await server.rt.db.recoveryCode.count({ where: { userId: acct.userId, usedAt: null } })).toBe(10);

    const otherToken = (await api.post("/v1/auth/token", { email: other.email, password: other.password })).body.mfa_token;
    expect((await api.post("/v1/auth/mfa/verify", { mfa_token: otherToken, code: otherCodes[0] })).status).toBe(200);
  });

  it("kills a pending challenge when the password changes", async () => {
    const acct = await signUpVerified(server);
    const { recoveryCodes } = await enrol(acct);
    const token = (await api.post("/v1/auth/token", { email: acct.email, password: acct.password })).body.mfa_token;
    await server.rt.db.user.update({ where: { id: acct.userId }, data: { tokenVersion: { increment: 1 } } });
    expect((await api.post("/v1/auth/mfa/verify", { mfa_token: token, code: recoveryCodes[0] })).status).toBe(401);
  });
});

describe("turning MFA off", () => {
  it("needs a valid code; afterwards sign-in answers tokens directly", async () => {
    const acct = await signUpVerified(server);
    const { secret, recoveryCodes } = await enrol(acct);
    const me = client(server.url, acct.token);
    const wrong = await me.delete("/v1/auth/mfa", { code: "000000" === codeAt(secret, 1) ? "111111" : "000000" });
    expect(wrong.status).toBe(400);
    expect((await me.get("/v1/auth/mfa/status")).body.enabled).toBe(true);

    expect((await me.delete("/v1/auth/mfa", { code: recoveryCodes[3] })).status).toBe(204);
    expect((await me.get("/v1/auth/mfa/status")).body).toEqual({ enabled: false, recovery_codes_remaining: 0 });
    const row = await server.rt.db.user.findUnique({ where: { id: acct.userId } });
    expect(row).toMatchObject({ mfaEnabled: false, mfaSecret: null, mfaPendingSecret: null });
    expect(await server.rt.db.recoveryCode.count({ where: { userId: acct.userId } })).toBe(0);
    expect((await me.delete("/v1/auth/mfa", { code: recoveryCodes[4] })).status).toBe(409);

    const login = await api.post("/v1/auth/token", { email: acct.email, password: acct.password });
    expect(login.status).toBe(200);
    expect(login.body.access_token).toEqual(expect.any(String));
    const actions = (await server.rt.db.auditEvent.findMany({ where: { resourceId: acct.userId } })).map((e) => e.action);
    expect(actions).toContain("auth.mfa_disable");
  });
});

describe("master-key rotation", () => {
  it("rewraps TOTP secrets under the new master key, so MFA keeps working after the old one is destroyed", async () => {
    const acct = await signUpVerified(server);
    const { secret } = await enrol(acct);
    const { keystore } = server.rt;
    const from = await keystore.currentMasterKeyVersion();
    const versionOf = async () => Buffer.from((await server.rt.db.user.findUnique({ where: { id: acct.userId } }))!.mfaSecret!).readUInt32BE(0);
    expect(await versionOf()).toBe(from);

    await keystore.ensureMasterKey(from + 1);
    const result = await rewrapMfaSecrets(server.rt, from + 1);
    expect(result.failedUserIds).toEqual([]);
    expect(result.rewrapped).toBeGreaterThanOrEqual(1);
    expect(await versionOf()).toBe(from + 1);
    await keystore.destroyMasterKey(from);

    const token = (await api.post("/v1/auth/token", { email: acct.email, password: acct.password })).body.mfa_token;
    expect((await api.post("/v1/auth/mfa/verify", { mfa_token: token, code: codeAt(secret, 1) })).status).toBe(200);
    expect((await rewrapMfaSecrets(server.rt, from + 1)).rewrapped).toBe(0);
  });
});
