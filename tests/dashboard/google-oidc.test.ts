import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizationUrl, FLOW_COOKIE, googleClient, MFA_COOKIE, newFlow, openCookie, openFlow, pkceChallenge, sameState, sealCookie } from "../../server/dashboard/google-oidc";
import { ApiError } from "../../server/http/errors";
import { googleUser } from "../../server/identity/google";
import { uniqueEmail } from "../helpers/accounts";
import { startOidcIssuer, type TestOidcIssuer } from "../helpers/oidc-issuer";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * The dashboard's Google flow keeps its state, nonce and PKCE verifier in a sealed cookie: these tests
 * guard that boundary (nothing forged, altered, swapped or stale is accepted) and the nonce binding of
 * the ID token. The browser flow against a real OpenID Provider is e2e/google.spec.ts.
 */
const SECRET = "x".repeat(43);

describe("sealed flow cookie", () => {
  it("round-trips the flow and hides it from the browser", () => {
    const flow = newFlow();
    const sealed = sealCookie(SECRET, FLOW_COOKIE, flow, 600);
    expect(openFlow(SECRET, sealed)).toEqual(flow);
    for (const part of Object.values(flow)) expect(sealed).not.toContain(part);
    expect(Buffer.from(sealed, "base64url").toString("latin1")).not.toContain(flow.verifier);
    // Fresh randomness for every flow.
    expect(newFlow().state).not.toBe(flow.state);
  });

  it("refuses a tampered, re-keyed, swapped, expired or forged cookie", () => {
    const now = Date.now();
    const sealed = sealCookie(SECRET, FLOW_COOKIE, newFlow(), 600, now);
    const raw = Buffer.from(sealed, "base64url");
    for (const i of [0, 12, raw.length - 1]) {
      const altered = Buffer.from(raw);
      altered[i]! ^= 1;
      expect(openFlow(SECRET, altered.toString("base64url"), now)).toBeNull();
    }
    expect(openFlow("y".repeat(43), sealed, now)).toBeNull();
    // The MFA cookie and the flow cookie are not interchangeable.
    expect(openCookie(SECRET, MFA_COOKIE, sealed, now)).toBeNull();
    expect(openFlow(SECRET, sealCookie(SECRET, MFA_COOKIE, newFlow(), 600, now), now)).toBeNull();
    expect(openFlow(SECRET, sealed, now + 601_000)).toBeNull();
    // Well-formed but not ours, or not a flow.
    const forged = Buffer.from(JSON.stringify({ p: FLOW_COOKIE, exp: now + 600_000, v: newFlow() })).toString("base64url");
    expect(openFlow(SECRET, forged, now)).toBeNull();
    expect(openFlow(SECRET, sealCookie(SECRET, FLOW_COOKIE, { state: "s" }, 600, now), now)).toBeNull();
    for (const junk of [undefined, "", "!!!", "a".repeat(5000), "AAAA"]) expect(openFlow(SECRET, junk, now)).toBeNull();
    // Positive control: the untouched cookie opens at the same instant.
    expect(openFlow(SECRET, sealed, now)).not.toBeNull();
  });

  it("compares the returned state exactly", () => {
    const { state } = newFlow();
    expect(sameState(state, state)).toBe(true);
    expect(sameState(`${state}x`, state)).toBe(false);
    expect(sameState(state.slice(1), state)).toBe(false);
    expect(sameState(null, state)).toBe(false);
    expect(sameState("", state)).toBe(false);
    expect(sameState("s".repeat(300), "s".repeat(300))).toBe(false);
  });
});

describe("authorization request", () => {
  it("uses S256 PKCE (RFC 7636 appendix B) and carries state, nonce and the callback", () => {
    expect(pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    const flow = newFlow();
    const url = new URL(authorizationUrl({ authorizationEndpoint: "https://issuer.example/auth?x=1" }, { clientId: "client-1" }, "https://talon.example/auth/google/callback", flow));
    expect(url.origin + url.pathname).toBe("https://issuer.example/auth");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      x: "1",
      response_type: "code",
      client_id: "client-1",
      redirect_uri: "https://talon.example/auth/google/callback",
      scope: "openid email profile",
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: pkceChallenge(flow.verifier),
      code_challenge_method: "S256",
    });
    // The verifier itself never leaves the server.
    expect(url.toString()).not.toContain(flow.verifier);
  });

  it("is offered only with both the client id and the secret", () => {
    const google = { issuer: "https://accounts.google.com", jwksUrl: "https://www.googleapis.com/oauth2/v3/certs" };
    expect(googleClient({ google })).toBeNull();
    expect(googleClient({ google: { ...google, clientId: "id" } })).toBeNull();
    expect(googleClient({ google: { ...google, clientSecret: "secret" } })).toBeNull();
    expect(googleClient({ google: { ...google, clientId: "id", clientSecret: "secret" } })).toEqual({ clientId: "id", clientSecret: "secret", issuer: google.issuer });
  });
});

describe("ID token nonce", () => {
  const CLIENT_ID = "talon-dashboard.apps.example";
  let issuer: TestOidcIssuer;
  let server: TestServer;
  beforeAll(async () => {
    issuer = await startOidcIssuer();
    server = await startTestServer({ env: { TALON_GOOGLE_CLIENT_ID: CLIENT_ID, TALON_GOOGLE_ISSUER: issuer.issuer, TALON_GOOGLE_JWKS_URL: issuer.jwksUrl } });
  });
  afterAll(async () => {
    await server?.close();
    await issuer?.close();
  });

  const ctx = () => ({ rt: server.rt, requestId: randomUUID(), ip: "127.0.0.1" });

  it("must be the flow's: a missing or different nonce is refused, the right one signs in", async () => {
    const claims = { sub: randomUUID(), email: uniqueEmail("nonce"), email_verified: true, aud: CLIENT_ID };
    const nonce = newFlow().nonce;
    for (const token of [await issuer.mint(claims), await issuer.mint({ ...claims, nonce: newFlow().nonce })]) {
      const err = await googleUser(ctx(), token, { nonce }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(401);
    }
    expect(await server.rt.db.user.findUnique({ where: { email: claims.email } })).toBeNull();

    const user = await googleUser(ctx(), await issuer.mint({ ...claims, nonce }), { nonce });
    expect(user).toMatchObject({ mfaEnabled: false });
    expect((await server.rt.db.user.findUnique({ where: { id: user.id } }))?.googleSub).toBe(claims.sub);
  });
});
