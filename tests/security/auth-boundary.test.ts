import { createHmac, createPublicKey, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outboxTokenFor, signUpVerified } from "../helpers/accounts";
import { client, type TestResponse } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";
import { captureStderr, type StderrCapture } from "../helpers/stderr";

/**
 * The bearer boundary: every credential that is not exactly a live token we issued, or a live key we
 * minted, is 401. Each refusal sits beside a positive control built the same way, so the 401 is the
 * boundary and not a broken test setup.
 */
let server: TestServer;
let account: Awaited<ReturnType<typeof signUpVerified>>;
let kid: string;
let x: string;
let stderr: StderrCapture;

beforeAll(async () => {
  // Capture everything the server logs (at debug level) for the canary checks below.
  stderr = captureStderr();
  server = await startTestServer({ env: { TALON_LOG_LEVEL: "debug" } });
  account = await signUpVerified(server, { password: "canary-password-7f3e9a1b" });
  ({ kid, x } = await server.rt.keystore.signingJwk());
});
afterAll(async () => {
  await server?.close();
  stderr?.restore();
});

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
const me = (token?: string) => client(server.url, token).get("/v1/auth/me");
const now = () => Math.floor(Date.now() / 1000);

function claims(over: Record<string, unknown> = {}) {
  return { sub: `user:${account.userId}`, org: account.orgId, tv: 0, iss: server.rt.config.publicUrl, aud: "talon-api", iat: now(), exp: now() + 300, jti: randomUUID(), ...over };
}

/** A JWT signed by the server's own key (in SoftHSM) with whatever header and claims the test wants. */
async function signedByUs(payload: Record<string, unknown>, header: Record<string, unknown> = { alg: "EdDSA", typ: "JWT", kid }) {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${(await server.rt.keystore.sign(Buffer.from(input))).toString("base64url")}`;
}

function expect401(res: TestResponse) {
  expect(res.status).toBe(401);
  expect(res.body).toMatchObject({ status: 401, title: "Unauthorized" });
  expect(res.headers.get("www-authenticate")).toBe("Bearer");
}

describe("JWT boundary", () => {
  it("positive control: a token crafted here with the server's key and correct claims is accepted", async () => {
    const res = await me(await signedByUs(claims()));
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(account.userId);
  });

  it("refuses a missing, malformed or garbage credential", async () => {
    expect401(await me());
    expect401(await client(server.url).get("/v1/auth/me", { Authorization: "Basic dXNlcjpwYXNz" }));
    expect401(await me("garbage"));
    expect401(await me("a.b.c"));
    expect401(await me(`${account.token}x`));
  });

  it("refuses an expired token", async () => {
    expect401(await me(await signedByUs(claims({ iat: now() - 600, exp: now() - 60 }))));
  });

  it("refuses alg none, with or without a signature", async () => {
    const input = `${b64({ alg: "none", typ: "JWT", kid })}.${b64(claims())}`;
    expect401(await me(`${input}.`));
    expect401(await me(`${input}.AAAA`));
  });

  it("refuses HS256 tokens keyed with the public key, in every encoding of it", async () => {
    const jwk = { kty: "OKP", crv: "Ed25519", x };
    const pem = createPublicKey({ key: jwk, format: "jwk" }).export({ format: "pem", type: "spki" }).toString();
    const input = `${b64({ alg: "HS256", typ: "JWT", kid })}.${b64(claims())}`;
    for (const secret of [Buffer.from(x, "base64url"), Buffer.from(x), Buffer.from(pem), Buffer.from(JSON.stringify(jwk))]) {
      expect401(await me(`${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`));
    }
  });

  it("refuses an unknown kid, a missing kid, and a foreign key claiming our kid", async () => {
    expect401(await me(await signedByUs(claims(), { alg: "EdDSA", typ: "JWT", kid: "someone-else" })));
    expect401(await me(await signedByUs(claims(), { alg: "EdDSA", typ: "JWT" })));
    const foreign = generateKeyPairSync("ed25519").privateKey;
    const input = `${b64({ alg: "EdDSA", typ: "JWT", kid })}.${b64(claims())}`;
    expect401(await me(`${input}.${sign(null, Buffer.from(input), foreign).toString("base64url")}`));
  });

  it("refuses a wrong audience, issuer, typ, subject kind, org or token version", async () => {
    expect401(await me(await signedByUs(claims({ aud: "someone-else" }))));
    expect401(await me(await signedByUs(claims({ iss: "https://evil.example" }))));
    expect401(await me(await signedByUs(claims(), { alg: "EdDSA", typ: "at+jwt", kid })));
    expect401(await me(await signedByUs(claims({ sub: `agent:${account.userId}` }))));
    expect401(await me(await signedByUs(claims({ org: randomUUID() }))));
    expect401(await me(await signedByUs(claims({ tv: 1 }))));
    expect401(await me(await signedByUs(claims({ tv: undefined }))));
    expect401(await me(await signedByUs(claims({ sub: `user:${randomUUID()}` }))));
  });
});

describe("personal API key boundary", () => {
  it("accepts the key as minted and refuses any other key", async () => {
    const created = await client(server.url, account.token).post("/v1/auth/api-keys", { name: "boundary" });
    const key: string = created.body.api_key;
    expect((await me(key)).status).toBe(200);
    const flipped = key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
    expect401(await me(flipped)); // right lookup prefix, wrong secret part
    expect401(await me(`1ck_${"A".repeat(43)}`));
    expect401(await me(key.slice(0, -1)));
    expect401(await me(`${key}A`));
    expect401(await me("1ck_"));
  });
});

describe("canary: credentials never leak", () => {
  it("keeps the password, the API key and tokens out of audit rows, later responses and logs", async () => {
    const password = account.password;
    const api = client(server.url);
    const responses: string[] = [];
    const keep = (r: TestResponse) => (responses.push(r.text), r);

    keep(await api.post("/v1/auth/token", { email: account.email, password: `${password}-wrong` }));
    const login = keep(await api.post("/v1/auth/token", { email: account.email, password }));
    const user = client(server.url, login.body.access_token);
    const created = await user.post("/v1/auth/api-keys", { name: "canary" }); // the one response that shows the key
    const key: string = created.body.api_key;
    expect(key).toMatch(/^1ck_/);
    keep(await client(server.url, key).get("/v1/auth/me"));
    keep(await user.get("/v1/auth/api-keys"));
    keep(await user.get("/v1/auth/me"));
    keep(await user.delete(`/v1/auth/api-keys/${created.body.key.id}`));
    keep(await client(server.url, key).get("/v1/auth/me"));
    await server.rt.audit.drain();

    const audit = JSON.stringify(await server.rt.db.auditEvent.findMany());
    const logs = stderr.text();
    expect(logs).toContain('"level":"info"'); // the spy did capture the server's logs
    const secrets = [password, key, key.slice(16), outboxTokenFor(server, account.email)];
    const tokens = [login.body.access_token as string, account.token];
    // The login response carries its own access token; nothing else may carry one.
    for (const [where, text, canaries] of [["audit", audit, [...secrets, ...tokens]], ["logs", logs, [...secrets, ...tokens]], ["responses", responses.join("\n"), secrets]] as const) {
      for (const canary of canaries) expect(text.includes(canary), `${where} must not contain a credential`).toBe(false);
    }
    expect(JSON.parse(audit).map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(["auth.signup", "auth.verify_email", "auth.failure", "auth.success", "api_key.create", "api_key.revoke"]),
    );
  });
});
