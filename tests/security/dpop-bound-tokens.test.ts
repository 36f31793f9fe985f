import { createHash, randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, generateDpopKey } from "../../lib/sdk";
import { signUpVerified } from "../helpers/accounts";
import { startTwinServers } from "../helpers/agents";
import { client } from "../helpers/http";
import { addAgent, grant, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * DPoP (RFC 9449) sender-constrained agent tokens: a token bound to a key (`cnf.jkt`) is refused
 * (401, `WWW-Authenticate: DPoP error="invalid_dpop_proof"`) on every request that does not carry a
 * fresh proof by that key for that method and URL, with the token's hash, never used before — on one
 * instance or another. Every refusal sits beside the same token succeeding with a valid proof.
 */
type Key = { alg: "ES256" | "EdDSA"; privateKey: CryptoKey; jwk: JWK; jkt: string };

async function newKey(alg: "ES256" | "EdDSA" = "ES256"): Promise<Key> {
  const pair = await generateKeyPair(alg, { extractable: true, ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}) });
  const full = await exportJWK(pair.publicKey);
  const jwk: JWK = alg === "ES256" ? { kty: full.kty, crv: full.crv, x: full.x, y: full.y } : { kty: full.kty, crv: full.crv, x: full.x };
  return { alg, privateKey: pair.privateKey as CryptoKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}

const ath = (token: string) => createHash("sha256").update(token).digest("base64url");

type ProofOpts = { htm: string; htu: string; token?: string; iat?: number; jti?: string; ath?: string | null; typ?: string; jwk?: JWK };
async function proof(key: Key, o: ProofOpts): Promise<string> {
  const claims: Record<string, unknown> = { htm: o.htm, htu: o.htu, jti: o.jti ?? randomUUID() };
  if (o.ath !== null && (o.ath !== undefined || o.token !== undefined)) claims.ath = o.ath ?? ath(o.token!);
  return new SignJWT(claims)
    .setProtectedHeader({ typ: o.typ ?? "dpop+jwt", alg: key.alg, jwk: o.jwk ?? key.jwk })
    .setIssuedAt(o.iat ?? Math.floor(Date.now() / 1000))
    .sign(key.privateKey);
}

let server: TestServer;
let owner: ReturnType<typeof client>;
let ownerToken: string;
let vault: string;
const SECRET_PATH = "api-keys/stripe";
let secretUrl: string;

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  const acct = await signUpVerified(server);
  ownerToken = acct.token;
  owner = client(server.url, acct.token);
  vault = (await owner.post("/v1/vaults", { name: "dpop" })).body.id;
  expect((await owner.put(`/v1/vaults/${vault}/secrets/${SECRET_PATH}`, { value: "sk_dpop_value", type: "api_key" })).status).toBe(201);
  secretUrl = `${server.url}/v1/vaults/${vault}/secrets/${SECRET_PATH}`;
});
afterAll(async () => {
  await server?.close();
});

/** A registered agent with read on the vault, and its `ocv_` key. */
async function readerAgent() {
  const created = await owner.post("/v1/agents", { name: `dpop-${randomUUID().slice(0, 8)}` });
  expect(created.status).toBe(201);
  const agentId = created.body.agent.id as string;
  await grant(owner, vault, { principal_type: "agent", principal_id: agentId, secret_path_pattern: "**", permissions: ["read"] });
  return { agentId, apiKey: created.body.api_key as string };
}

async function boundToken(key: Key): Promise<{ agentId: string; apiKey: string; token: string }> {
  const a = await readerAgent();
  const ex = await client(server.url).post("/v1/auth/agent-token", { agent_id: a.agentId, api_key: a.apiKey, dpop_jwk: key.jwk });
  expect(ex.status).toBe(200);
  return { ...a, token: ex.body.access_token as string };
}

function get(url: string, headers: Record<string, string>) {
  return fetch(url, { headers });
}

describe("binding at the token endpoint", () => {
  it("dpop_jwk binds the token (cnf.jkt = RFC 7638 thumbprint, token_type DPoP); without it the token is a plain bearer token", async () => {
    const key = await newKey();
    const a = await readerAgent();
    const bound = await client(server.url).post("/v1/auth/agent-token", { agent_id: a.agentId, api_key: a.apiKey, dpop_jwk: key.jwk });
    expect(bound.status).toBe(200);
    expect(bound.body.token_type).toBe("DPoP");
    expect(decodeJwt(bound.body.access_token).cnf).toEqual({ jkt: key.jkt });
    const plain = await client(server.url).post("/v1/auth/agent-token", { agent_id: a.agentId, api_key: a.apiKey });
    expect(plain.body.token_type).toBe("bearer");
    expect(decodeJwt(plain.body.access_token).cnf).toBeUndefined();
    // Unbound tokens keep working as before: Bearer, no proof.
    expect((await client(server.url, plain.body.access_token).get(`/v1/vaults/${vault}/secrets/${SECRET_PATH}`)).body.value).toBe("sk_dpop_value");
  });

  it("a private key (d) in dpop_jwk is a 400 naming the member, for P-256 and Ed25519; no token is issued", async () => {
    const a = await readerAgent();
    for (const alg of ["ES256", "EdDSA"] as const) {
      const pair = await generateKeyPair(alg, { extractable: true, ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}) });
      const priv = await exportJWK(pair.privateKey);
      const res = await client(server.url).post("/v1/auth/agent-token", { agent_id: a.agentId, api_key: a.apiKey, dpop_jwk: priv });
      expect(res.status, alg).toBe(400);
      expect(res.body.detail).toContain("dpop_jwk.d");
      expect(res.text).not.toContain(priv.d!);
    }
    const notOnCurve = await client(server.url).post("/v1/auth/agent-token", {
      agent_id: a.agentId,
      api_key: a.apiKey,
      dpop_jwk: { kty: "EC", crv: "P-256", x: "A".repeat(43), y: "A".repeat(43) },
    });
    expect(notOnCurve.status).toBe(400);
    expect(notOnCurve.body.detail).toContain("dpop_jwk");
    expect((await client(server.url).post("/v1/auth/agent-token", { agent_id: a.agentId, api_key: a.apiKey, dpop_jwk: { kty: "RSA", n: "x", e: "AQAB" } })).status).toBe(400);
    expect(await server.rt.db.auditEvent.count({ where: { action: "auth.success", resourceId: a.agentId } })).toBe(0);
  });

  it("a DPoP proof header on the exchange (RFC 9449 §5) binds the token to the proof's key; a bad proof or a second key is a 400", async () => {
    const key = await newKey("EdDSA");
    const a = await readerAgent();
    const endpoint = `${server.url}/v1/auth/agent-token`;
    const exchange = (headers: Record<string, string>, extra: Record<string, unknown> = {}) =>
      client(server.url).post("/v1/auth/agent-token", { agent_id: a.agentId, api_key: a.apiKey, ...extra }, headers);

    const wrongHtu = await exchange({ DPoP: await proof(key, { htm: "POST", htu: `${server.url}/v1/auth/token` }) });
    expect(wrongHtu.status).toBe(400);
    expect(wrongHtu.body.detail).toMatch(/htu/);
    const other = await newKey();
    const twoKeys = await exchange({ DPoP: await proof(key, { htm: "POST", htu: endpoint }) }, { dpop_jwk: other.jwk });
    expect(twoKeys.status).toBe(400);
    expect(twoKeys.body.detail).toMatch(/dpop_jwk/);

    const valid = await proof(key, { htm: "POST", htu: endpoint });
    const ok = await exchange({ DPoP: valid }, { dpop_jwk: key.jwk });
    expect(ok.status).toBe(200);
    expect(ok.body.token_type).toBe("DPoP");
    expect(decodeJwt(ok.body.access_token).cnf).toEqual({ jkt: key.jkt });
    // The same proof again is a replay.
    expect((await exchange({ DPoP: valid })).status).toBe(400);

    const token = ok.body.access_token as string;
    const read = await get(secretUrl, { Authorization: `DPoP ${token}`, DPoP: await proof(key, { htm: "GET", htu: secretUrl, token }) });
    expect(read.status).toBe(200);
  });
});

describe("a bound token needs a valid proof on every request", () => {
  it("no proof → 401 with a DPoP challenge; a valid proof → 200, with the DPoP or the Bearer scheme", async () => {
    const key = await newKey();
    const { token } = await boundToken(key);
    for (const scheme of ["DPoP", "Bearer"]) {
      const bare = await get(secretUrl, { Authorization: `${scheme} ${token}` });
      expect(bare.status, scheme).toBe(401);
      expect(bare.headers.get("www-authenticate"), scheme).toMatch(/^DPoP error="invalid_dpop_proof"/);
      expect(await bare.text()).not.toContain("sk_dpop_value");
      const ok = await get(secretUrl, { Authorization: `${scheme} ${token}`, DPoP: await proof(key, { htm: "GET", htu: secretUrl, token }) });
      expect(ok.status, scheme).toBe(200);
      expect(((await ok.json()) as { value: string }).value).toBe("sk_dpop_value");
    }
  });

  it("refuses a proof by another key, for another method or URL, too old, replayed, without or with a wrong ath, or of the wrong typ", async () => {
    const key = await newKey();
    const { token } = await boundToken(key);
    const auth = { Authorization: `DPoP ${token}` };
    const now = Math.floor(Date.now() / 1000);
    const refusals: [string, string][] = [
      ["another key", await proof(await newKey(), { htm: "GET", htu: secretUrl, token })],
      ["another key claiming this one's jwk", await proof(await newKey(), { htm: "GET", htu: secretUrl, token, jwk: key.jwk })],
      ["htm", await proof(key, { htm: "POST", htu: secretUrl, token })],
      ["htu path", await proof(key, { htm: "GET", htu: `${server.url}/v1/vaults/${vault}/secrets/other`, token })],
      ["htu host", await proof(key, { htm: "GET", htu: `https://talon.evil.example/v1/vaults/${vault}/secrets/${SECRET_PATH}`, token })],
      ["old iat", await proof(key, { htm: "GET", htu: secretUrl, token, iat: now - 300 })],
      ["future iat", await proof(key, { htm: "GET", htu: secretUrl, token, iat: now + 300 })],
      ["no ath", await proof(key, { htm: "GET", htu: secretUrl, ath: null })],
      ["wrong ath", await proof(key, { htm: "GET", htu: secretUrl, ath: ath("another-token") })],
      ["typ", await proof(key, { htm: "GET", htu: secretUrl, token, typ: "JWT" })],
      ["two proofs", `${await proof(key, { htm: "GET", htu: secretUrl, token })}, ${await proof(key, { htm: "GET", htu: secretUrl, token })}`],
    ];
    for (const [what, p] of refusals) {
      const res = await get(secretUrl, { ...auth, DPoP: p });
      expect(res.status, what).toBe(401);
      expect(res.headers.get("www-authenticate"), what).toContain('error="invalid_dpop_proof"');
    }

    // Replay: one proof, used twice.
    const once = await proof(key, { htm: "GET", htu: secretUrl, token });
    expect((await get(secretUrl, { ...auth, DPoP: once })).status).toBe(200);
    const replayed = await get(secretUrl, { ...auth, DPoP: once });
    expect(replayed.status).toBe(401);
    expect(((await replayed.json()) as { detail: string }).detail).toMatch(/already used/);

    // Concurrent uses of one proof: exactly one gets through.
    const raced = await proof(key, { htm: "GET", htu: secretUrl, token });
    const statuses = await Promise.all(Array.from({ length: 10 }, () => get(secretUrl, { ...auth, DPoP: raced }).then((r) => r.status)));
    expect(statuses.filter((st) => st === 200)).toHaveLength(1);
    expect(statuses.filter((st) => st === 401)).toHaveLength(9);
    // The replay cache is bounded: one row per proof, keyed by a hash (no caller text), expiring with the iat window.
    const rows = await server.rt.db.rateCounter.findMany({ where: { key: { startsWith: "dpop-jti:" } } });
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.key).toMatch(/^dpop-jti:[A-Za-z0-9_-]{43}$/);
      expect(Number(row.windowStart)).toBeLessThanOrEqual(Date.now() + 80_000);
    }

    // The query string is not part of htu; Talon's public URL is accepted as htu like the address used.
    const listUrl = `${server.url}/v1/vaults/${vault}/secrets`;
    expect((await get(`${listUrl}?prefix=api-keys/`, { ...auth, DPoP: await proof(key, { htm: "GET", htu: `${listUrl}?ignored=1#x`, token }) })).status).toBe(200);
    const publicHtu = `${server.rt.config.publicUrl}/v1/vaults/${vault}/secrets/${SECRET_PATH}`;
    expect((await get(secretUrl, { ...auth, DPoP: await proof(key, { htm: "GET", htu: publicHtu, token }) })).status).toBe(200);
  });

  it("a Host header naming another server does not make its URL an acceptable htu", async () => {
    const key = await newKey();
    const { token } = await boundToken(key);
    const path = `/v1/vaults/${vault}/secrets/${SECRET_PATH}`;
    const rawGet = (host: string, dpop: string) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(server.url);
        const req = httpRequest({ host: u.hostname, port: u.port, path, method: "GET", headers: { Host: host, Authorization: `DPoP ${token}`, DPoP: dpop } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on("error", reject);
        req.end();
      });
    expect(await rawGet("talon.evil.example", await proof(key, { htm: "GET", htu: `http://talon.evil.example${path}`, token }))).toBe(401);
    expect(await rawGet(new URL(server.url).host, await proof(key, { htm: "GET", htu: `${server.url}${path}`, token }))).toBe(200);
  });

  it("the DPoP scheme is only for bound agent tokens: an unbound token, a key or a user token sent with it is refused", async () => {
    const a = await readerAgent();
    const plain = (await client(server.url).post("/v1/auth/agent-token", { agent_id: a.agentId, api_key: a.apiKey })).body.access_token as string;
    for (const credential of [plain, a.apiKey, ownerToken]) {
      const res = await get(secretUrl, { Authorization: `DPoP ${credential}` });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
      expect((await get(secretUrl, { Authorization: `Bearer ${credential}` })).status).toBe(200);
    }
  });

  it("signing out with a bound token needs a proof too; afterwards the token is dead even with one", async () => {
    const key = await newKey("EdDSA");
    const { token } = await boundToken(key);
    const revokeUrl = `${server.url}/v1/auth/token`;
    expect((await fetch(revokeUrl, { method: "DELETE", headers: { Authorization: `DPoP ${token}` } })).status).toBe(401);
    expect((await fetch(revokeUrl, { method: "DELETE", headers: { Authorization: `DPoP ${token}`, DPoP: await proof(key, { htm: "DELETE", htu: revokeUrl, token }) } })).status).toBe(204);
    expect((await get(secretUrl, { Authorization: `DPoP ${token}`, DPoP: await proof(key, { htm: "GET", htu: secretUrl, token }) })).status).toBe(401);
  });
});

describe("the SDK", () => {
  it("createClient({ agentId, apiKey, dpopKey }) binds its token and proves possession on every call (ES256 and Ed25519)", async () => {
    for (const alg of ["ES256", "EdDSA"] as const) {
      const a = await readerAgent();
      const dpopKey = await generateDpopKey(alg);
      const sdk = createClient({ baseUrl: server.url, agentId: a.agentId, apiKey: a.apiKey, dpopKey });
      const first = await sdk.secrets.get(vault, SECRET_PATH);
      expect(first.error, alg).toBeNull();
      expect(first.data?.value).toBe("sk_dpop_value");
      // A second call: a new proof (fresh jti), the same bound token.
      expect((await sdk.secrets.get(vault, SECRET_PATH)).data?.value).toBe("sk_dpop_value");
      const token = (await sdk.transport.bearer()).data!;
      expect(decodeJwt(token).cnf).toEqual({ jkt: dpopKey.thumbprint });
      // The token alone, without the key, gets nowhere.
      const stolen = createClient({ baseUrl: server.url, token });
      const refused = await stolen.secrets.get(vault, SECRET_PATH);
      expect(refused.meta.status).toBe(401);
      expect(refused.error?.detail).toMatch(/DPoP/);
    }
  });
});

describe("hosted MCP", () => {
  const INITIALIZE = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };
  const mcpHeaders = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };

  it("a bound token opens a session and its tools work with a proof on each /mcp request; without one, 401", async () => {
    const key = await newKey();
    const { token } = await boundToken(key);
    const mcpUrl = `${server.url}/mcp`;
    const post = async (body: unknown, extra: Record<string, string>) =>
      fetch(mcpUrl, { method: "POST", headers: { ...mcpHeaders, Authorization: `DPoP ${token}`, "X-Vault-ID": vault, ...extra }, body: JSON.stringify(body) });

    const bare = await post(INITIALIZE, {});
    expect(bare.status).toBe(401);
    expect(bare.headers.get("www-authenticate")).toContain("invalid_dpop_proof");

    const opened = await post(INITIALIZE, { DPoP: await proof(key, { htm: "POST", htu: mcpUrl, token }) });
    expect(opened.status).toBe(200);
    const sessionId = opened.headers.get("mcp-session-id")!;
    const session = { "Mcp-Session-Id": sessionId, "Mcp-Protocol-Version": "2025-06-18" };
    await post({ jsonrpc: "2.0", method: "notifications/initialized" }, { ...session, DPoP: await proof(key, { htm: "POST", htu: mcpUrl, token }) });

    const listCall = { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "list_secrets", arguments: {} } };
    expect((await post(listCall, session)).status).toBe(401);
    const listed = await post(listCall, { ...session, DPoP: await proof(key, { htm: "POST", htu: mcpUrl, token }) });
    expect(listed.status).toBe(200);
    const result = (await listed.json()) as { result: { isError?: boolean; content: { text: string }[] } };
    expect(result.result.isError ?? false).toBe(false);
    expect(result.result.content.map((c) => c.text).join("\n")).toContain(SECRET_PATH);
  });
});

describe("replay across instances", () => {
  it("a proof accepted by one instance is refused by another sharing the database", async () => {
    const twins = await startTwinServers();
    try {
      const acct = await signUpVerified(twins.a);
      const human = client(twins.a.url, acct.token);
      const v = (await human.post("/v1/vaults", { name: "twins" })).body.id as string;
      expect((await human.put(`/v1/vaults/${v}/secrets/k`, { value: "twin-value" })).status).toBe(201);
      const agent = await addAgent(twins.a, acct.token);
      await grant(human, v, { principal_type: "agent", principal_id: agent.agentId, permissions: ["read"] });
      const key = await newKey();
      const rotated = await human.post(`/v1/agents/${agent.agentId}/rotate-key`);
      const ex = await client(twins.a.url).post("/v1/auth/agent-token", { agent_id: agent.agentId, api_key: rotated.body.api_key, dpop_jwk: key.jwk });
      const token = ex.body.access_token as string;
      const path = `/v1/vaults/${v}/secrets/k`;
      // Both instances answer for the same public URL, so one proof names either.
      const p = await proof(key, { htm: "GET", htu: `${twins.a.rt.config.publicUrl}${path}`, token });
      const first = await get(`${twins.a.url}${path}`, { Authorization: `DPoP ${token}`, DPoP: p });
      expect(first.status).toBe(200);
      expect((await get(`${twins.b.url}${path}`, { Authorization: `DPoP ${token}`, DPoP: p })).status).toBe(401);
      // Positive control: instance b accepts a fresh proof for the same token.
      const fresh = await proof(key, { htm: "GET", htu: `${twins.b.rt.config.publicUrl}${path}`, token });
      expect((await get(`${twins.b.url}${path}`, { Authorization: `DPoP ${token}`, DPoP: fresh })).status).toBe(200);
    } finally {
      await twins.close();
    }
  });
});
