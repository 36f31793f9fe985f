import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { registerAgent } from "../helpers/agents";
import { client, type TestResponse } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";
import { MFA_TOKEN_AUDIENCE } from "../../server/identity/tokens";

/**
 * A token signed with our own key is still refused when its times are implausible: `iat` more than
 * 60 s ahead, or a lifetime or age longer than a token of its kind is ever issued for (user tokens:
 * the configured TTL; agent tokens: the largest `token_ttl_seconds` an agent may choose; MFA tokens:
 * 5 minutes). Each refusal sits beside an accepted token at the edge of the bound.
 */
const USER_TTL = 900;
const AGENT_TTL_MAX = 86_400;
let server: TestServer;
let account: Awaited<ReturnType<typeof signUpVerified>>;
let agentId: string;
let kid: string;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  server = await startTestServer({ env: { TALON_USER_TOKEN_TTL_SECONDS: String(USER_TTL) } });
  account = await signUpVerified(server);
  agentId = (await registerAgent(server.url, account.token)).id;
  ({ kid } = await server.rt.keystore.signingJwk());
});
afterAll(async () => {
  await server?.close();
});

/** A JWT signed by the server's own key (in SoftHSM) with the claims the test chooses. */
async function signedByUs(payload: Record<string, unknown>) {
  const input = `${b64({ alg: "EdDSA", typ: "JWT", kid })}.${b64(payload)}`;
  return `${input}.${(await server.rt.keystore.sign(Buffer.from(input))).toString("base64url")}`;
}

const userClaims = (iat: number, exp: number) => ({ sub: `user:${account.userId}`, org: account.orgId, tv: 0, iss: server.rt.config.publicUrl, aud: "talon-api", iat, exp, jti: randomUUID() });
const agentClaims = (iat: number, exp: number) => ({
  sub: `agent:${agentId}`,
  org: account.orgId,
  scopes: [],
  vault_ids: [],
  crypto_proxy_enabled: false,
  tv: 0,
  iss: server.rt.config.publicUrl,
  aud: "talon-api",
  iat,
  exp,
  jti: randomUUID(),
});
const asUser = async (iat: number, exp: number) => client(server.url, await signedByUs(userClaims(iat, exp))).get("/v1/auth/me");
const asAgent = async (iat: number, exp: number) => client(server.url, await signedByUs(agentClaims(iat, exp))).get("/v1/agents/me");

function expect401(res: TestResponse) {
  expect(res.status).toBe(401);
  expect(res.body).toMatchObject({ status: 401, title: "Unauthorized" });
}

describe("iat is at most 60 s in the future", () => {
  it("accepts clock skew within a minute (positive control)", async () => {
    expect((await asUser(now() + 30, now() + 300)).status).toBe(200);
    expect((await asAgent(now() + 30, now() + 300)).status).toBe(200);
  });

  it("refuses a token issued further in the future", async () => {
    expect401(await asUser(now() + 120, now() + 300));
    expect401(await asUser(now() + 3600 * 24 * 365, now() + 3600 * 24 * 365 + 60));
    expect401(await asAgent(now() + 120, now() + 600));
  });
});

describe("a token lives no longer than its kind's TTL", () => {
  it("user tokens: a lifetime of exactly the TTL, even near its end, is accepted (positive control)", async () => {
    const t = now();
    expect((await asUser(t, t + USER_TTL)).status).toBe(200);
    expect((await asUser(t - USER_TTL + 60, t + 60)).status).toBe(200);
  });

  it("user tokens: a longer lifetime, or an older iat, is refused", async () => {
    const t = now();
    expect401(await asUser(t, t + USER_TTL + 1));
    expect401(await asUser(t, t + 10 * 365 * 86_400));
    expect401(await asUser(t - 5 * USER_TTL, t + 60));
  });

  it("agent tokens: bounded by the largest token_ttl_seconds an agent may have", async () => {
    const t = now();
    expect((await asAgent(t, t + AGENT_TTL_MAX)).status).toBe(200);
    expect401(await asAgent(t, t + AGENT_TTL_MAX + 1));
    expect401(await asAgent(t - AGENT_TTL_MAX - 10, t + 60));
  });

  it("MFA challenge tokens: bounded by their 5 minutes", async () => {
    const t = now();
    const mfa = (iat: number, exp: number) =>
      signedByUs({ sub: `mfa:${account.userId}`, org: account.orgId, tv: 0, iss: server.rt.config.publicUrl, aud: MFA_TOKEN_AUDIENCE, iat, exp, jti: randomUUID() });
    await expect(server.rt.tokens.verifyMfaToken(await mfa(t, t + 300))).resolves.toMatchObject({ userId: account.userId });
    await expect(server.rt.tokens.verifyMfaToken(await mfa(t, t + 301))).rejects.toMatchObject({ status: 401 });
    await expect(server.rt.tokens.verifyMfaToken(await mfa(t + 120, t + 300))).rejects.toMatchObject({ status: 401 });
  });

  it("tokens the server issues itself pass the bounds", async () => {
    expect((await client(server.url, account.token).get("/v1/auth/me")).status).toBe(200);
    const issued = await server.rt.tokens.issue({ sub: `agent:${agentId}`, org: account.orgId, scopes: [], vault_ids: [], crypto_proxy_enabled: false, tv: 0 }, AGENT_TTL_MAX);
    expect((await client(server.url, issued.token).get("/v1/agents/me")).status).toBe(200);
  });
});

describe("the verified-token cache", () => {
  it("remembers an API token only once verified, and only until its exp", async () => {
    const exp = now() + 2;
    const token = await signedByUs(userClaims(now(), exp));
    expect(server.rt.tokens.verifiedBefore(token)).toBeUndefined();
    expect((await client(server.url, token).get("/v1/auth/me")).status).toBe(200);
    expect(server.rt.tokens.verifiedBefore(token)).toMatchObject({ sub: `user:${account.userId}`, exp });
    // A different token (one character inside the signature changed) is not a hit, and is refused.
    const at = token.length - 10;
    const forged = token.slice(0, at) + (token[at] === "A" ? "B" : "A") + token.slice(at + 1);
    expect(server.rt.tokens.verifiedBefore(forged)).toBeUndefined();
    expect401(await client(server.url, forged).get("/v1/auth/me"));
    while (now() <= exp) await new Promise((r) => setTimeout(r, 100));
    expect(server.rt.tokens.verifiedBefore(token)).toBeUndefined();
    expect401(await client(server.url, token).get("/v1/auth/me"));
  });

  it("never holds a token of another audience (MFA challenges)", async () => {
    const t = now();
    const mfaToken = await signedByUs({ sub: `mfa:${account.userId}`, org: account.orgId, tv: 0, iss: server.rt.config.publicUrl, aud: MFA_TOKEN_AUDIENCE, iat: t, exp: t + 300, jti: randomUUID() });
    await expect(server.rt.tokens.verifyMfaToken(mfaToken)).resolves.toMatchObject({ userId: account.userId });
    expect(server.rt.tokens.verifiedBefore(mfaToken)).toBeUndefined();
    expect401(await client(server.url, mfaToken).get("/v1/auth/me"));
  });
});
