import { execFileSync } from "node:child_process";
import { createHmac, randomUUID, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiApp } from "../../server/api/app";
import { createDispatcher } from "../../server/http/node-listener";
import { tlsServerOptions } from "../../server/http/tls";
import { signUpVerified } from "../helpers/accounts";
import { agentToken, NO_LIMITS, registerAgent } from "../helpers/agents";
import { client, type TestResponse } from "../helpers/http";
import { startOidcIssuer, type OidcIssuer } from "../helpers/oidc-provider";
import { startTestServer, type TestServer } from "../helpers/server";
import { captureStderr, type StderrCapture } from "../helpers/stderr";

/**
 * The agent credential boundary. Every refusal has a positive control built the same way: the same
 * agent succeeding with the right credential, so each 401/403/404 is the boundary, not a broken setup.
 * mTLS runs over a real TLS server with certificates made by openssl; OIDC against a real OpenID
 * Provider (`oidc-provider`) on loopback.
 */
let server: TestServer;
let proxied: TestServer;
let human: Awaited<ReturnType<typeof signUpVerified>>;
let stranger: Awaited<ReturnType<typeof signUpVerified>>;
let idp: OidcIssuer;
let rogueIdp: OidcIssuer;
let certs: { dir: string; serverKey: string; serverCert: string; ca: string; client: { key: Buffer; cert: Buffer }; other: { key: Buffer; cert: Buffer }; untrusted: { key: Buffer; cert: Buffer } };
let tlsServer: HttpsServer;
let stderr: StderrCapture;

function openssl(...args: string[]) {
  execFileSync("openssl", args, { stdio: "pipe" });
}

function makeCerts() {
  const dir = mkdtempSync(path.join(tmpdir(), "talon-mtls-"));
  const f = (n: string) => path.join(dir, n);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", f("ca.key"), "-out", f("ca.crt"), "-days", "1", "-subj", "/CN=Talon Test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
  openssl("req", "-x509", ...ec, "-keyout", f("server.key"), "-out", f("server.crt"), "-days", "1", "-subj", "/CN=127.0.0.1");
  openssl("req", "-x509", ...ec, "-keyout", f("rogue-ca.key"), "-out", f("rogue-ca.crt"), "-days", "1", "-subj", "/CN=Rogue CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
  const leaf = (name: string, ca: string) => {
    openssl("req", "-new", ...ec, "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`), "-subj", `/CN=${name}`);
    openssl("x509", "-req", "-in", f(`${name}.csr`), "-CA", f(`${ca}.crt`), "-CAkey", f(`${ca}.key`), "-CAcreateserial", "-out", f(`${name}.crt`), "-days", "1");
    return { key: readFileSync(f(`${name}.key`)), cert: readFileSync(f(`${name}.crt`)) };
  };
  return { dir, serverKey: f("server.key"), serverCert: f("server.crt"), ca: f("ca.crt"), client: leaf("agent", "ca"), other: leaf("other-agent", "ca"), untrusted: leaf("impostor", "rogue-ca") };
}

const fingerprintOf = (pem: Buffer) => new X509Certificate(pem).fingerprint256;

beforeAll(async () => {
  stderr = captureStderr();

  idp = await startOidcIssuer({ clients: [{ clientId: "agent-a", clientSecret: randomUUID() }, { clientId: "agent-b", clientSecret: randomUUID() }], audience: "talon-api" });
  rogueIdp = await startOidcIssuer({ clients: [{ clientId: "agent-a", clientSecret: randomUUID() }], audience: "talon-api" });
  const common = { ...NO_LIMITS, TALON_LOG_LEVEL: "debug", TALON_OIDC_ALLOWED_ISSUERS: idp.issuer, TALON_MTLS_FINGERPRINT_HEADER: "X-Client-Cert-Sha256" };
  server = await startTestServer({ env: common });
  // Behind a TLS-terminating proxy (one trusted hop); the local keystore, as one process holds one SoftHSM token.
  proxied = await startTestServer({ env: { ...common, TALON_KEYSTORE: "local", TALON_TRUSTED_PROXY_HOPS: "1" } });
  human = await signUpVerified(server);
  stranger = await signUpVerified(server);

  certs = makeCerts();
  const options = tlsServerOptions({ ...server.rt.config, tls: { certFile: certs.serverCert, keyFile: certs.serverKey, clientCaFile: certs.ca } })!;
  tlsServer = createHttpsServer(options, createDispatcher(createApiApp(server.rt)));
  await new Promise<void>((resolve) => tlsServer.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  tlsServer?.closeAllConnections();
  await new Promise((resolve) => (tlsServer ? tlsServer.close(resolve) : resolve(undefined)));
  await server?.close();
  await proxied?.close();
  await idp?.close();
  await rogueIdp?.close();
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
  stderr?.restore();
});

function expect401(res: TestResponse, detail = "Invalid credentials") {
  expect(res.status).toBe(401);
  expect(res.body).toMatchObject({ status: 401, title: "Unauthorized", detail });
}

const exchange = (body: Record<string, unknown>, baseUrl = server.url, headers?: Record<string, string>) => client(baseUrl).post("/v1/auth/agent-token", body, headers);

describe("api_key exchange", () => {
  it("refuses a wrong key, another agent's key, an unknown agent and a malformed key — all with the same body", async () => {
    const a = await registerAgent(server.url, human.token);
    const b = await registerAgent(server.url, human.token);
    expect((await exchange({ agent_id: a.id, api_key: a.apiKey })).status).toBe(200);
    const wrong = `ocv_${"A".repeat(43)}`;
    for (const body of [
      { agent_id: a.id, api_key: wrong },
      { agent_id: a.id, api_key: b.apiKey },
      { agent_id: randomUUID(), api_key: a.apiKey },
      { agent_id: a.id, api_key: "not-a-key" },
      { agent_id: a.id },
    ]) {
      const res = await exchange(body);
      expect401(res);
      expect(Object.keys(res.body).sort()).toEqual(["detail", "request_id", "status", "title", "type"]);
    }
  });

  it("uses an ocv_ key directly as Bearer; a near miss is 401", async () => {
    const a = await registerAgent(server.url, human.token);
    expect((await client(server.url, a.apiKey).get("/v1/agents/me")).status).toBe(200);
    const nearMiss = a.apiKey.slice(0, -1) + (a.apiKey.endsWith("A") ? "B" : "A");
    expect401(await client(server.url, nearMiss).get("/v1/agents/me"));
  });
});

describe("forged agent JWTs", () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const now = () => Math.floor(Date.now() / 1000);
  let agentId: string;
  let claims: Record<string, unknown>;
  let kid: string;
  let x: string;

  beforeAll(async () => {
    agentId = (await registerAgent(server.url, human.token)).id;
    ({ kid, x } = await server.rt.keystore.signingJwk());
    claims = { sub: `agent:${agentId}`, org: human.orgId, scopes: [], vault_ids: [], crypto_proxy_enabled: false, tv: 0, iss: server.rt.config.publicUrl, aud: "talon-api", iat: now(), exp: now() + 300, jti: randomUUID() };
  });
  const signedByUs = async (header: Record<string, unknown>, payload = claims) => {
    const input = `${b64(header)}.${b64(payload)}`;
    return `${input}.${(await server.rt.keystore.sign(Buffer.from(input))).toString("base64url")}`;
  };
  const me = (t: string) => client(server.url, t).get("/v1/agents/me");

  it("positive control: agent claims signed with the server's key are accepted", async () => {
    const res = await me(await signedByUs({ alg: "EdDSA", typ: "JWT", kid }));
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(agentId);
  });

  it("refuses alg none, HS256 keyed with the public key, an unknown kid, another org and a stale version", async () => {
    const none = `${b64({ alg: "none", typ: "JWT", kid })}.${b64(claims)}.`;
    expect401(await me(none));
    const hsInput = `${b64({ alg: "HS256", typ: "JWT", kid })}.${b64(claims)}`;
    expect401(await me(`${hsInput}.${createHmac("sha256", Buffer.from(x, "base64url")).update(hsInput).digest("base64url")}`));
    expect401(await me(await signedByUs({ alg: "EdDSA", typ: "JWT", kid: "someone-elses-key" })));
    expect401(await me(await signedByUs({ alg: "EdDSA", typ: "JWT", kid }, { ...claims, org: stranger.orgId })));
    expect401(await me(await signedByUs({ alg: "EdDSA", typ: "JWT", kid }, { ...claims, tv: 1 })));
    expect401(await me(await signedByUs({ alg: "EdDSA", typ: "JWT", kid }, { ...claims, sub: `agent:${randomUUID()}` })));
    expect401(await me(await signedByUs({ alg: "EdDSA", typ: "JWT", kid }, { ...claims, exp: now() - 60, iat: now() - 600 })));
  });
});

describe("who may manage agents", () => {
  it("an agent cannot PATCH itself or another agent; the human can (positive control)", async () => {
    const a = await registerAgent(server.url, human.token);
    const b = await registerAgent(server.url, human.token);
    const asAgent = client(server.url, await agentToken(server.url, a.id, a.apiKey));
    for (const body of [{ crypto_proxy_enabled: true }, { tx_max_value_eth: "100" }, { is_active: true }, { scopes: ["**"] }]) {
      const res = await asAgent.patch(`/v1/agents/${a.id}`, body);
      expect(res.status).toBe(403);
      expect(res.body.detail).toBe("Agents cannot change their own flags or guardrails");
    }
    expect((await asAgent.patch(`/v1/agents/${b.id}`, { is_active: false })).status).toBe(403);
    expect((await client(server.url, a.apiKey).patch(`/v1/agents/${a.id}`, { tx_max_value_eth: "100" })).status).toBe(403);
    const byHuman = await client(server.url, human.token).patch(`/v1/agents/${a.id}`, { tx_max_value_eth: "100" });
    expect(byHuman.status).toBe(200);
    expect(byHuman.body.tx_max_value_eth).toBe("100");
  });

  it("agents cannot register, list, delete or rotate agents, nor read another agent; they can read themselves", async () => {
    const a = await registerAgent(server.url, human.token);
    const b = await registerAgent(server.url, human.token);
    const asAgent = client(server.url, await agentToken(server.url, a.id, a.apiKey));
    expect((await asAgent.post("/v1/agents", { name: "spawn" })).status).toBe(403);
    expect((await asAgent.get("/v1/agents")).status).toBe(403);
    expect((await asAgent.delete(`/v1/agents/${b.id}`)).status).toBe(403);
    expect((await asAgent.post(`/v1/agents/${a.id}/rotate-key`)).status).toBe(403);
    expect((await asAgent.get(`/v1/agents/${b.id}`)).status).toBe(403);
    expect((await asAgent.get(`/v1/agents/${a.id}`)).status).toBe(200);
  });

  it("another org's agent is 404 for every operation; its owner sees it (positive control)", async () => {
    const a = await registerAgent(server.url, human.token);
    const them = client(server.url, stranger.token);
    expect((await them.get(`/v1/agents/${a.id}`)).status).toBe(404);
    expect((await them.patch(`/v1/agents/${a.id}`, { is_active: false })).status).toBe(404);
    expect((await them.delete(`/v1/agents/${a.id}`)).status).toBe(404);
    expect((await them.post(`/v1/agents/${a.id}/rotate-key`)).status).toBe(404);
    expect((await them.get("/v1/agents")).body.agents).toEqual([]);
    expect((await client(server.url, human.token).get(`/v1/agents/${a.id}`)).status).toBe(200);
    expect((await client(server.url, a.apiKey).get("/v1/agents/me")).status).toBe(200);
  });
});

function tlsPost(body: unknown, cert?: { key: Buffer; cert: Buffer }): Promise<TestResponse> {
  const port = (tlsServer.address() as AddressInfo).port;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: "127.0.0.1", port, method: "POST", path: "/v1/auth/agent-token", headers: { "Content-Type": "application/json" }, rejectUnauthorized: false, agent: false, ...(cert ?? {}) },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString("utf8")));
        res.on("end", () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined, text, headers: new Headers() }));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

describe("mTLS agents", () => {
  it("Talon terminating TLS: the verified client certificate whose fingerprint is the agent's gets a token", async () => {
    const res = await client(server.url, human.token).post("/v1/agents", { name: "m", auth_method: "mtls", client_cert_fingerprint: fingerprintOf(certs.client.cert) });
    expect(res.status).toBe(201);
    const id = res.body.agent.id;
    const ok = await tlsPost({ agent_id: id }, certs.client);
    expect(ok.status).toBe(200);
    expect((await client(server.url, ok.body.access_token).get("/v1/agents/me")).body.id).toBe(id);
    expect401(await tlsPost({ agent_id: id }));
    expect401(await tlsPost({ agent_id: id }, certs.other));
    expect401(await tlsPost({ agent_id: id }, certs.untrusted));
    // Over plain HTTP there is no certificate, and the header is not trusted without a proxy hop.
    expect401(await exchange({ agent_id: id }, server.url, { "X-Client-Cert-Sha256": fingerprintOf(certs.client.cert) }));
  });

  it("an impostor whose self-made certificate copies the subject of the trusted one is refused", async () => {
    const res = await client(server.url, human.token).post("/v1/agents", { name: "m2", auth_method: "mtls", client_cert_fingerprint: fingerprintOf(certs.untrusted.cert) });
    // Even the exact fingerprint is refused when the certificate does not chain to the configured CA.
    expect401(await tlsPost({ agent_id: res.body.agent.id }, certs.untrusted));
  });

  it("behind a trusted proxy: the proxy's fingerprint header decides", async () => {
    const owner = await signUpVerified(proxied);
    const fp = fingerprintOf(certs.client.cert);
    const res = await client(proxied.url, owner.token).post("/v1/agents", { name: "m", auth_method: "mtls", client_cert_fingerprint: fp });
    const id = res.body.agent.id;
    const ok = await exchange({ agent_id: id }, proxied.url, { "X-Client-Cert-Sha256": fp });
    expect(ok.status).toBe(200);
    expect401(await exchange({ agent_id: id }, proxied.url, { "X-Client-Cert-Sha256": fingerprintOf(certs.other.cert) }));
    expect401(await exchange({ agent_id: id }, proxied.url));
  });
});

describe("OIDC client-credentials agents", () => {
  it("a client-credentials JWT from the agent's issuer, for its client id and Talon's audience, gets a token", async () => {
    const res = await client(server.url, human.token).post("/v1/agents", { name: "o", auth_method: "oidc_client_credentials", oidc_issuer: idp.issuer, oidc_client_id: "agent-a" });
    expect(res.status).toBe(201);
    expect(res.body.api_key).toBeUndefined();
    const id = res.body.agent.id;
    const ok = await exchange({ agent_id: id, client_assertion: await idp.clientCredentialsToken() });
    expect(ok.status).toBe(200);
    expect((await client(server.url, ok.body.access_token).get("/v1/agents/me")).body.id).toBe(id);

    expect401(await exchange({ agent_id: id, client_assertion: await idp.clientCredentialsToken({ clientId: "agent-b" }) }));
    expect401(await exchange({ agent_id: id, client_assertion: await rogueIdp.clientCredentialsToken() }));
    expect401(await exchange({ agent_id: id, client_assertion: await idp.clientCredentialsToken({ resource: "urn:someone:else" }) }));
    expect401(await exchange({ agent_id: id, client_assertion: "a.b.c" }));
    expect401(await exchange({ agent_id: id, api_key: `ocv_${"A".repeat(43)}` }));
    expect401(await exchange({ agent_id: id }));
    // The assertion of an oidc agent is no key for an api_key agent.
    const keyed = await registerAgent(server.url, human.token);
    expect401(await exchange({ agent_id: keyed.id, client_assertion: await idp.clientCredentialsToken() }));
  });

  it("a deactivated OIDC agent is refused even with a valid assertion", async () => {
    const res = await client(server.url, human.token).post("/v1/agents", { name: "o2", auth_method: "oidc_client_credentials", oidc_issuer: idp.issuer, oidc_client_id: "agent-b" });
    const id = res.body.agent.id;
    expect((await exchange({ agent_id: id, client_assertion: await idp.clientCredentialsToken({ clientId: "agent-b" }) })).status).toBe(200);
    await client(server.url, human.token).patch(`/v1/agents/${id}`, { is_active: false });
    expect401(await exchange({ agent_id: id, client_assertion: await idp.clientCredentialsToken({ clientId: "agent-b" }) }), "Agent is deactivated");
  });
});

describe("canary key", () => {
  it("an ocv_ key never appears in logs, audit rows or later responses", async () => {
    const a = await registerAgent(server.url, human.token);
    const canary = a.apiKey;
    const other = await registerAgent(server.url, human.token);
    await exchange({ agent_id: a.id, api_key: canary });
    await exchange({ agent_id: other.id, api_key: canary });
    await client(server.url, canary).get("/v1/agents/me");
    await client(server.url, canary).delete("/v1/auth/token");
    await client(server.url, canary.slice(0, -2) + "zz").get("/v1/agents/me");
    const later = [
      await client(server.url, human.token).get("/v1/agents"),
      await client(server.url, human.token).get(`/v1/agents/${a.id}`),
      await client(server.url, canary).get("/v1/agents/me"),
      await client(server.url, human.token).patch(`/v1/agents/${a.id}`, { name: "n" }),
    ];
    const rotated = await client(server.url, human.token).post(`/v1/agents/${a.id}/rotate-key`);
    for (const r of later) expect(r.text).not.toContain(canary);
    expect(rotated.text).not.toContain(canary);
    const audit = JSON.stringify(await server.rt.db.auditEvent.findMany());
    expect(audit).toContain(a.id);
    expect(audit).not.toContain(canary);
    expect(audit).not.toContain(rotated.body.api_key);
    const logs = stderr.text();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(canary);
    expect(logs).not.toContain(canary.slice(4));
  });
});
