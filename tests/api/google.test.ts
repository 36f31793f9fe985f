import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified, uniqueEmail } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startOidcIssuer, type TestOidcIssuer } from "../helpers/oidc-issuer";
import { startTestServer, type TestServer } from "../helpers/server";

const CLIENT_ID = "talon-test.apps.example";
let issuer: TestOidcIssuer;
let server: TestServer;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  server = await startTestServer({
    env: { TALON_GOOGLE_CLIENT_ID: CLIENT_ID, TALON_GOOGLE_ISSUER: issuer.issuer, TALON_GOOGLE_JWKS_URL: issuer.jwksUrl, TALON_RATE_LIMIT_AUTH_PER_MINUTE: "0" },
  });
  api = client(server.url);
});
afterAll(async () => {
  await server?.close();
  await issuer?.close();
});

const identity = (over: Record<string, unknown> = {}) => ({ sub: randomUUID(), email: uniqueEmail("g"), email_verified: true, name: "Grace Hopper", aud: CLIENT_ID, ...over });
const signIn = async (claims: Record<string, unknown>, opts?: Parameters<TestOidcIssuer["mint"]>[1]) => api.post("/v1/auth/google", { id_token: await issuer.mint(claims, opts) });

describe("Google sign-in", () => {
  it("creates a verified account and organisation on first sign-in, and finds it again by subject", async () => {
    const who = identity();
    const first = await signIn(who);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ access_token: expect.any(String), token_type: "Bearer", expires_in: 900, refresh_token: expect.any(String) });
    const me = await client(server.url, first.body.access_token).get("/v1/auth/me");
    expect(me.body).toMatchObject({ email: who.email, display_name: "Grace Hopper", role: "owner", email_verified: true, auth_method: "google", totp_enabled: false });
    expect((await server.rt.db.user.findUnique({ where: { id: me.body.id } }))?.googleSub).toBe(who.sub);

    // Same subject, even with a changed address at Google: same user.
    const again = await signIn({ ...who, email: uniqueEmail("renamed") });
    expect(again.status).toBe(200);
    expect((await client(server.url, again.body.access_token).get("/v1/auth/me")).body.id).toBe(me.body.id);

    const actions = (await server.rt.db.auditEvent.findMany({ where: { resourceId: me.body.id } })).map((e) => [e.action, JSON.parse(e.details).method]);
    expect(actions).toContainEqual(["auth.signup", "google"]);
    expect(actions).toContainEqual(["auth.success", "google"]);
  });

  it("refuses forged, expired, wrong-audience and wrong-issuer tokens, and unverified addresses", async () => {
    expect((await signIn(identity(), { foreignKey: true })).status).toBe(401);
    expect((await signIn(identity(), { kid: "unknown-kid" })).status).toBe(401);
    expect((await signIn(identity(), { expiresIn: Math.floor(Date.now() / 1000) - 60 })).status).toBe(401);
    expect((await signIn(identity({ aud: "someone-else" }))).status).toBe(401);
    expect((await signIn(identity(), { issuer: "https://evil.example" })).status).toBe(401);
    expect((await api.post("/v1/auth/google", { id_token: "not.a.jwt" })).status).toBe(401);
    const unverified = await signIn(identity({ email_verified: false }));
    expect(unverified.status).toBe(403);
    expect(unverified.body.detail).toMatch(/email_verified/);
    expect((await api.post("/v1/auth/google", {})).status).toBe(400);
    // Positive control: the same issuer's well-formed token signs in.
    expect((await signIn(identity())).status).toBe(200);
  });

  it("links to an existing verified account with the same address, which keeps its password", async () => {
    const acct = await signUpVerified(server);
    const res = await signIn(identity({ email: acct.email }));
    expect(res.status).toBe(200);
    expect((await client(server.url, res.body.access_token).get("/v1/auth/me")).body.id).toBe(acct.userId);
    expect((await api.post("/v1/auth/token", { email: acct.email, password: acct.password })).status).toBe(200);
    // Another Google account claiming the same address cannot take it over.
    const other = await signIn(identity({ email: acct.email }));
    expect(other.status).toBe(409);
  });

  it("takes over an unverified account with the same address: the pre-registered password stops working", async () => {
    const email = uniqueEmail("prehijack");
    const password = "attacker chose this";
    const signup = await api.post("/v1/auth/signup", { email, password });
    expect(signup.status).toBe(201);
    const res = await signIn(identity({ email }));
    expect(res.status).toBe(200);
    expect((await client(server.url, res.body.access_token).get("/v1/auth/me")).body).toMatchObject({ id: signup.body.user_id, email_verified: true });
    expect((await api.post("/v1/auth/token", { email, password })).status).toBe(401);
  });

  it("asks for the second factor when the account has MFA on", async () => {
    const acct = await signUpVerified(server);
    await server.rt.db.user.update({ where: { id: acct.userId }, data: { mfaEnabled: true } });
    const res = await signIn(identity({ email: acct.email }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ mfa_required: true, mfa_token: expect.any(String) });
  });
});

describe("without TALON_GOOGLE_CLIENT_ID", () => {
  it("answers 503 saying what to configure", async () => {
    const bare = await startTestServer({ env: { TALON_KEYSTORE: "local" } });
    try {
      const res = await client(bare.url).post("/v1/auth/google", { id_token: await issuer.mint(identity()) });
      expect(res.status).toBe(503);
      expect(res.body.detail).toMatch(/TALON_GOOGLE_CLIENT_ID/);
    } finally {
      await bare.close();
    }
  });
});
