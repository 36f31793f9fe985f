import { randomUUID } from "node:crypto";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXECUTE_RESPONSE_BODY_MAX_BYTES } from "../../lib/contract/bindings";
import { createClient } from "../../lib/sdk";
import { setLogLevel } from "../../server/log";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, addOrgUser, grant } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";
import { captureStderr, type StderrCapture } from "../helpers/stderr";
import { type Receiver, startReceiver } from "../helpers/webhook-receiver";

/**
 * Credential-injecting HTTP calls (POST /v1/agents/{id}/execute) against a real upstream on loopback
 * that records what it received and echoes it back in every way it can (body, headers, status text).
 * The value must arrive at the upstream and nowhere else: not in the answer to the agent, not in the
 * server's log, not in an audit row. Loopback upstreams need bindings marked internal (by an owner).
 */
let server: TestServer;
let upstream: Receiver;
let stderr: StderrCapture;

const CANARY = `cnry-${randomUUID()}-tok en/+=`;
const BUNDLE_FIELD = `cnry-field-${randomUUID()}`;
const BUNDLE_OTHER = `cnry-other-${randomUUID()}`;

let owner: Awaited<ReturnType<typeof signUpVerified>>;
let api: ReturnType<typeof client>;
let vaultId: string;

beforeAll(async () => {
  server = await startTestServer();
  setLogLevel("debug");
  stderr = captureStderr();
  // Echoes everything it got, in the body, a header and the status text.
  upstream = await startReceiver((_n, r) => ({
    status: 200,
    headers: { "x-echo-auth": String(r.headers.authorization ?? r.headers["x-api-key"] ?? ""), "x-echo-path": encodeURI(r.path) },
    body: JSON.stringify({ path: r.path, headers: r.headers, body: r.body }),
  }));
  owner = await signUpVerified(server);
  api = client(server.url, owner.token);
  vaultId = (await api.post("/v1/vaults", { name: `exec-${randomUUID().slice(0, 6)}` })).body.id;
  expect((await api.put(`/v1/vaults/${vaultId}/secrets/api/token`, { value: CANARY, type: "api_key" })).status).toBe(201);
  expect((await api.put(`/v1/vaults/${vaultId}/secrets/api/env`, { value: `A=${BUNDLE_OTHER}\nFIELD=${BUNDLE_FIELD}\n`, type: "env_bundle" })).status).toBe(201);
});

afterAll(async () => {
  stderr?.restore();
  setLogLevel("error");
  await upstream?.close();
  await server?.close();
});

const binding = (name: string, inject: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  name,
  secret_path: "api/token",
  scheme: "http",
  host: "127.0.0.1",
  port: upstream.port,
  path_prefix: "/api/",
  methods: ["GET", "POST"],
  inject,
  internal: true,
  ...extra,
});

async function useOnlyAgent(path = "api/**") {
  const agent = await addAgent(server, owner.token);
  await grant(api, vaultId, { secret_path_pattern: path, principal_type: "agent", principal_id: agent.agentId, permissions: ["use"] });
  return agent;
}

/** Every spelling of a value a careless redactor would miss. */
function spellings(v: string): string[] {
  return [v, encodeURIComponent(v), Buffer.from(v).toString("base64"), Buffer.from(v).toString("base64url")];
}

function expectClean(text: string, values: string[]) {
  for (const v of values) for (const s of spellings(v)) expect(text.includes(s), `leaked ${s}`).toBe(false);
}

describe("managing bindings", () => {
  it("humans with write create them; agents cannot; internal needs an owner or admin; non-internal destinations must be public https", async () => {
    const created = await api.post(`/v1/vaults/${vaultId}/bindings`, binding("mgmt", { kind: "bearer" }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "mgmt", host: "127.0.0.1", port: upstream.port, internal: true, inject: { kind: "bearer" }, methods: ["GET", "POST"] });
    expect((await api.post(`/v1/vaults/${vaultId}/bindings`, binding("mgmt", { kind: "bearer" }))).status).toBe(409);

    const agent = await useOnlyAgent();
    const byAgent = await agent.api.post(`/v1/vaults/${vaultId}/bindings`, binding("agent-made", { kind: "bearer" }));
    expect(byAgent.status).toBe(403);
    expect((await agent.api.patch(`/v1/vaults/${vaultId}/bindings/${created.body.id}`, { internal: false })).status).toBe(403);

    const member = await addOrgUser(server, owner.orgId, "member");
    await grant(api, vaultId, { secret_path_pattern: "api/**", principal_type: "user", principal_id: member.userId, permissions: ["read", "write"] });
    const memberInternal = await member.api.post(`/v1/vaults/${vaultId}/bindings`, binding("member-internal", { kind: "bearer" }));
    expect(memberInternal.status).toBe(403);
    expect(memberInternal.body.detail).toMatch(/owners and admins/);
    const memberPublic = await member.api.post(`/v1/vaults/${vaultId}/bindings`, binding("member-public", { kind: "bearer" }, { scheme: "https", host: "api.example.com", port: 443, internal: false }));
    expect(memberPublic.status).toBe(201);

    const plainHttp = await api.post(`/v1/vaults/${vaultId}/bindings`, binding("plain", { kind: "bearer" }, { host: "api.example.com", internal: false }));
    expect(plainHttp.status).toBe(400);
    expect(plainHttp.body.fields[0].field).toBe("scheme");
    const loop = await api.post(`/v1/vaults/${vaultId}/bindings`, binding("loop", { kind: "bearer" }, { scheme: "https", internal: false }));
    expect(loop.status).toBe(400);
    expect(loop.body.fields[0].field).toBe("host");
    const unknownField = await api.post(`/v1/vaults/${vaultId}/bindings`, { ...binding("x", { kind: "bearer" }), extra: 1 });
    expect(unknownField.status).toBe(400);

    // The agent lists the bindings it may use, and nothing of a vault it holds no policy on.
    const listed = await agent.api.get(`/v1/vaults/${vaultId}/bindings`);
    expect(listed.status).toBe(200);
    expect(listed.body.bindings.map((b: { name: string }) => b.name)).toContain("mgmt");
    const stranger = await addAgent(server, owner.token);
    expect((await stranger.api.get(`/v1/vaults/${vaultId}/bindings`)).body.bindings).toEqual([]);
    expect((await stranger.api.get(`/v1/vaults/${vaultId}/bindings/${created.body.id}`)).status).toBe(404);

    const patched = await api.patch(`/v1/vaults/${vaultId}/bindings/${created.body.id}`, { methods: ["GET"], description: "changed" });
    expect(patched.status).toBe(200);
    expect(patched.body.methods).toEqual(["GET"]);
    expect((await api.delete(`/v1/vaults/${vaultId}/bindings/${created.body.id}`)).status).toBe(204);
    expect((await api.get(`/v1/vaults/${vaultId}/bindings/${created.body.id}`)).status).toBe(404);

    // Another org's owner sees neither the vault nor its bindings.
    const other = await signUpVerified(server);
    expect((await client(server.url, other.token).get(`/v1/vaults/${vaultId}/bindings`)).status).toBe(404);
  });
});

describe("execute", () => {
  let agent: Awaited<ReturnType<typeof useOnlyAgent>>;
  beforeAll(async () => {
    agent = await useOnlyAgent();
    for (const [name, inject, extra] of [
      ["bearer", { kind: "bearer" }, {}],
      ["header", { kind: "header", header_name: "X-Api-Key", prefix: "Key " }, {}],
      ["query", { kind: "query", param_name: "api_key" }, {}],
      ["basic", { kind: "basic", username: "svc" }, {}],
      ["env", { kind: "env_field", field: "FIELD", as: "header", header_name: "X-Api-Key" }, { secret_path: "api/env" }],
    ] as const) {
      const r = await api.post(`/v1/vaults/${vaultId}/bindings`, binding(name, inject, extra));
      expect(r.status, r.text).toBe(201);
    }
  });

  const exec = (body: Record<string, unknown>, who = agent) => who.api.post(`/v1/agents/${who.agentId}/execute`, body);

  it("a use-only agent gets the answer of a request carrying the value, redacted; reading the secret itself is 403", async () => {
    const before = upstream.received.length;
    const res = await exec({ binding: "bearer", method: "POST", path: "/api/charges", query: { limit: "3" }, headers: { "X-Trace": "t1", "Content-Type": "application/json" }, body: '{"amount":5}' });
    expect(res.status, res.text).toBe(200);
    const got = upstream.received.at(-1)!;
    expect(upstream.received.length).toBe(before + 1);
    expect(got.headers.authorization).toBe(`Bearer ${CANARY}`);
    expect(got.path).toBe("/api/charges?limit=3");
    expect(got.headers["x-trace"]).toBe("t1");
    expect(got.body).toBe('{"amount":5}');
    expect(got.headers.host).toBe(`127.0.0.1:${upstream.port}`);
    expect(res.body.status).toBe(200);
    expect(res.body.body).toContain("[REDACTED]");
    expect(res.body.headers["x-echo-auth"]).toBe("Bearer [REDACTED]");
    expect(res.body.body_truncated).toBe(false);
    expectClean(res.text, [CANARY]);

    const read = await agent.api.get(`/v1/vaults/${vaultId}/secrets/api/token`);
    expect(read.status).toBe(403);
  });

  it("injects as a named header, a query parameter, basic auth and an env_bundle field, and redacts every form", async () => {
    const header = await exec({ binding: "header", path: "/api/h" });
    expect(header.status).toBe(200);
    expect(upstream.received.at(-1)!.headers["x-api-key"]).toBe(`Key ${CANARY}`);
    expectClean(header.text, [CANARY]);

    const query = await exec({ binding: "query", path: "/api/q", query: { page: "2" } });
    expect(query.status).toBe(200);
    const q = new URL(upstream.received.at(-1)!.path, "http://x").searchParams;
    expect(q.get("api_key")).toBe(CANARY);
    expect(q.get("page")).toBe("2");
    expectClean(query.text, [CANARY]);

    const basic = await exec({ binding: "basic", path: "/api/b" });
    expect(basic.status).toBe(200);
    const pair = Buffer.from(`svc:${CANARY}`).toString("base64");
    expect(upstream.received.at(-1)!.headers.authorization).toBe(`Basic ${pair}`);
    expect(basic.text.includes(pair)).toBe(false);
    expectClean(basic.text, [CANARY]);

    const env = await exec({ binding: "env", path: "/api/e", headers: { "X-Also": BUNDLE_OTHER } });
    expect(env.status).toBe(200);
    expect(upstream.received.at(-1)!.headers["x-api-key"]).toBe(BUNDLE_FIELD);
    // Every variable of the bundle is redacted, not only the injected one.
    expectClean(env.text, [BUNDLE_FIELD, BUNDLE_OTHER]);
  });

  it("refuses what the binding does not allow: other agents, humans, no policy, wrong method, paths outside the prefix, traversal, header and query overrides", async () => {
    const before = upstream.received.length;
    const human = await api.post(`/v1/agents/${agent.agentId}/execute`, { binding: "bearer", path: "/api/x" });
    expect(human.status).toBe(403);
    const other = await addAgent(server, owner.token);
    expect((await other.api.post(`/v1/agents/${agent.agentId}/execute`, { binding: "bearer", path: "/api/x" })).status).toBe(403);
    // Positive control beside the 403: the same binding and path work for the agent with `use`.
    const noPolicy = await exec({ binding: "bearer", path: "/api/x" }, other);
    expect(noPolicy.status).toBe(403);
    expect(noPolicy.body.detail).toMatch(/No policy grants you use access/);
    const denied = await addAgent(server, owner.token);
    await grant(api, vaultId, { secret_path_pattern: "api/**", principal_type: "agent", principal_id: denied.agentId, permissions: ["read"] });
    await grant(api, vaultId, { secret_path_pattern: "api/token", principal_type: "agent", principal_id: denied.agentId, permissions: ["use"], effect: "deny" });
    expect((await exec({ binding: "bearer", path: "/api/x" }, denied)).status).toBe(403);

    expect((await exec({ binding: "bearer", method: "DELETE", path: "/api/x" })).status).toBe(403);
    expect((await exec({ binding: "bearer", path: "/admin" })).status).toBe(403);
    expect((await exec({ binding: "bearer", path: "/apix/" })).status).toBe(403);
    for (const path of ["/api/../admin", "/api/%2e%2e/admin", "/api/%2E%2e/admin", "/api/..%2fadmin", "/api/%252e%252e/admin", "/api/.%2e/admin", "/api\\..\\admin", "/api/x?y=1", "api/x"]) {
      const r = await exec({ binding: "bearer", path });
      expect(r.status, path).toBe(400);
      expect(r.body.fields[0].field, path).toBe("path");
    }
    for (const h of ["Authorization", "authorization", "Host", "Transfer-Encoding", "Connection", "Content-Length", "Proxy-Authorization", "Accept-Encoding"]) {
      const r = await exec({ binding: "bearer", path: "/api/x", headers: { [h]: "evil" } });
      expect(r.status, h).toBe(400);
    }
    expect((await exec({ binding: "header", path: "/api/x", headers: { "x-api-key": "mine" } })).status).toBe(400);
    expect((await exec({ binding: "query", path: "/api/x", query: { api_key: "mine" } })).status).toBe(400);
    expect((await exec({ binding: "bearer", path: "/api/x", headers: { "X-Bad": "a\r\nHost: evil" } })).status).toBe(400);
    expect((await exec({ binding: "no-such-binding", path: "/api/x" })).status).toBe(404);
    expect(upstream.received.length).toBe(before);
    // The binding can still be used for what it allows.
    expect((await exec({ binding: "bearer", path: "/api/x" })).status).toBe(200);
  });

  it("counts uses against max_access_count like reads, and refuses a CMEK value with 409", async () => {
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/api/once`, { value: CANARY, max_access_count: 1 })).status).toBe(201);
    const once = await api.post(`/v1/vaults/${vaultId}/bindings`, binding("once", { kind: "bearer" }, { secret_path: "api/once" }));
    expect(once.status).toBe(201);
    const [a, b] = await Promise.all([exec({ binding: once.body.id, path: "/api/1" }), exec({ binding: once.body.id, path: "/api/2" })]);
    expect([a.status, b.status].sort()).toEqual([200, 410]);

    expect((await api.put(`/v1/vaults/${vaultId}/secrets/api/cmek`, { value: "AQIDBA==" })).status).toBe(201);
    // A CMEK vault's versions carry the customer key's fingerprint; the value is a blob only the client opens.
    const secret = await server.rt.db.secret.findFirstOrThrow({ where: { vaultId, path: "api/cmek" } });
    await server.rt.db.secretVersion.updateMany({ where: { secretId: secret.id }, data: { cmekFingerprint: "a".repeat(64) } });
    const cmek = await api.post(`/v1/vaults/${vaultId}/bindings`, binding("cmek", { kind: "bearer" }, { secret_path: "api/cmek" }));
    const r = await exec({ binding: cmek.body.id, path: "/api/c" });
    expect(r.status).toBe(409);
    expect(r.body.detail).toMatch(/CMEK/);
  });

  it("the SDK's agents.execute and bindings.list speak the same contract", async () => {
    const sdk = createClient({ baseUrl: server.url, token: agent.token });
    const listed = await sdk.bindings.list(vaultId);
    expect(listed.error).toBeNull();
    expect(listed.data!.bindings.map((b) => b.name)).toContain("bearer");
    const r = await sdk.agents.execute(agent.agentId, { binding: "bearer", path: "/api/sdk" });
    expect(r.error).toBeNull();
    expect(r.data).toMatchObject({ status: 200, redirects_followed: 0 });
    expect(JSON.stringify(r.data).includes(CANARY)).toBe(false);
    const refused = await sdk.agents.execute(agent.agentId, { binding: "bearer", path: "/other" });
    expect(refused.meta.status).toBe(403);
    expect((await sdk.bindings.create(vaultId, binding("by-agent", { kind: "bearer" }) as never)).meta.status).toBe(403);
  });

  it("audits each execute with binding, host, method and status — never the value, the query or headers — and the log holds no value", async () => {
    const before = upstream.received.length;
    const res = await exec({ binding: "query", path: "/api/audited", query: { q: "private-query-text" }, headers: { "X-Private": "private-header-text" } });
    expect(res.status).toBe(200);
    expect(upstream.received.length).toBe(before + 1);
    const events = await server.rt.db.auditEvent.findMany({ where: { action: "secret.execute" } });
    expect(events.length).toBeGreaterThan(0);
    const last = JSON.parse(events.sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime()).at(-1)!.details);
    expect(last).toMatchObject({ host: "127.0.0.1", method: "GET", status: 200, result: "ok", path: "api/token" });
    expect(last.bytes).toBeGreaterThan(0);
    const allAudit = JSON.stringify(await server.rt.db.auditEvent.findMany());
    expectClean(allAudit, [CANARY, BUNDLE_FIELD, BUNDLE_OTHER]);
    expect(allAudit.includes("private-query-text")).toBe(false);
    expect(allAudit.includes("private-header-text")).toBe(false);
    expect(stderr.text()).toContain('"msg"'); // the capture saw the server's log lines
    expectClean(stderr.text(), [CANARY, BUNDLE_FIELD, BUNDLE_OTHER]);
    // Usage is metered like any agent request.
    expect(res.headers.get("x-ratelimit-requests-used")).not.toBeNull();
  });
});

describe("execute: transformed echoes and binary answers", () => {
  const LONG = `cnry-long-${randomUUID()}/é+`;
  let echo: HttpServer;
  let echoPort = 0;
  let agent: Awaited<ReturnType<typeof useOnlyAgent>>;

  /** Every transform a careless redactor would miss, keyed by name. */
  function transforms(v: string): Record<string, string> {
    const b = Buffer.from(v, "utf8");
    const all = [...b].map((x) => `%${x.toString(16).padStart(2, "0")}`).join("");
    return {
      hex: b.toString("hex"),
      HEX: b.toString("hex").toUpperCase(),
      base64: b.toString("base64"),
      base64url: b.toString("base64url"),
      uri: encodeURIComponent(v),
      uriLower: encodeURIComponent(v).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
      form: new URLSearchParams({ v }).toString().slice(2),
      everyByte: all,
      everyByteUpper: all.toUpperCase(),
      // The value inside a base64'd JSON document, at each byte alignment.
      inBase64Json0: Buffer.from(`{"a":"${v}"}`).toString("base64"),
      inBase64Json1: Buffer.from(`{"ab":"${v}"}`).toString("base64"),
      inBase64Json2: Buffer.from(`{"abc":"${v}"}`).toString("base64url"),
    };
  }

  beforeAll(async () => {
    // Answers from the credential it received: transformed, embedded in binary, or cut at the cap.
    echo = createHttpServer((req, res) => {
      const auth = String(req.headers.authorization ?? "").replace(/^Bearer /, "");
      const url = req.url ?? "";
      if (url.startsWith("/api/transforms")) {
        res.writeHead(200, { "content-type": "application/json", "x-hex": Buffer.from(auth).toString("hex"), "x-raw-utf8": Buffer.from(auth, "utf8").toString("latin1") });
        res.end(JSON.stringify({ ...transforms(auth), short: "abc on 1" }));
      } else if (url.startsWith("/api/binary")) {
        res.writeHead(200, { "content-type": "image/png" });
        res.end(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe]), Buffer.from(auth, "utf8"), Buffer.from([0x00, 0x01, 0xc3])]));
      } else if (url.startsWith("/api/latin1")) {
        res.writeHead(200, { "content-type": "text/plain; charset=iso-8859-1" });
        res.end(Buffer.from(`caf\u00e9 ${auth}`, "latin1"));
      } else if (url.startsWith("/api/cut")) {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end(`${"a".repeat(EXECUTE_RESPONSE_BODY_MAX_BYTES - 12)}${auth}`);
      } else {
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
        res.end(`plain text é ${auth}`);
      }
    });
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    echoPort = (echo.address() as AddressInfo).port;
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/api/bundle2`, { value: `LONG=${LONG}\nSHORT=abc\nFLAG=1\n`, type: "env_bundle" })).status).toBe(201);
    const base = { scheme: "http", host: "127.0.0.1", port: echoPort, path_prefix: "/api/", methods: ["GET"], internal: true };
    expect((await api.post(`/v1/vaults/${vaultId}/bindings`, { ...base, name: "echo", secret_path: "api/token", inject: { kind: "bearer" } })).status).toBe(201);
    expect((await api.post(`/v1/vaults/${vaultId}/bindings`, { ...base, name: "echo-long", secret_path: "api/bundle2", inject: { kind: "env_field", field: "LONG" } })).status).toBe(201);
    agent = await useOnlyAgent();
  });
  afterAll(async () => {
    echo?.closeAllConnections();
    await new Promise((resolve) => echo?.close(resolve));
  });

  const exec = (binding: string, path: string) => agent.api.post(`/v1/agents/${agent.agentId}/execute`, { binding, path });

  it("redacts hex, base64, base64url and URL-encoded spellings, in the body and the headers; short bundle values are left alone", async () => {
    for (const [binding, value] of [["echo", CANARY], ["echo-long", LONG]] as const) {
      const res = await exec(binding, "/api/transforms");
      expect(res.status, res.text).toBe(200);
      expect(res.body.body_encoding).toBe("utf8");
      const body = JSON.parse(res.body.body as string) as Record<string, string>;
      for (const [name, spelled] of Object.entries(transforms(value))) {
        expect(body[name], name).toContain("[REDACTED]");
        expect(res.text.includes(spelled), `leaked ${name}`).toBe(false);
      }
      expect(res.body.headers["x-hex"]).toBe("[REDACTED]");
      expect(res.body.headers["x-raw-utf8"]).toBe("[REDACTED]");
      // Positive control: what is not a secret spelling comes back as sent (the 3-character bundle value, "1").
      expect(body.short).toBe("abc on 1");
      expect(body.inBase64Json0!.startsWith(Buffer.from('{"a":"').toString("base64").slice(0, 6))).toBe(true);
    }
  });

  it("a binary or non-UTF-8 answer comes back base64 (redacted in its bytes); text stays text", async () => {
    const text = await exec("echo", "/api/text");
    expect(text.body).toMatchObject({ status: 200, body: "plain text é [REDACTED]", body_encoding: "utf8" });

    const bin = await exec("echo", "/api/binary");
    expect(bin.status).toBe(200);
    expect(bin.body.body_encoding).toBe("base64");
    const bytes = Buffer.from(bin.body.body as string, "base64");
    expect(bytes.subarray(0, 11)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe]));
    expect(bytes.subarray(11)).toEqual(Buffer.concat([Buffer.from("[REDACTED]"), Buffer.from([0x00, 0x01, 0xc3])]));
    expect(bytes.includes(Buffer.from(CANARY))).toBe(false);
    expectClean(bin.text, [CANARY]);

    const latin1 = await exec("echo", "/api/latin1");
    expect(latin1.body.body_encoding).toBe("base64");
    expect(Buffer.from(latin1.body.body as string, "base64")).toEqual(Buffer.from("caf\u00e9 [REDACTED]", "latin1"));
  });

  it("an answer cut at the 1 MiB cap inside the value loses the partial value too", async () => {
    const res = await exec("echo", "/api/cut");
    expect(res.status).toBe(200);
    expect(res.body.body_truncated).toBe(true);
    expect(res.body.body_encoding).toBe("utf8");
    const body = res.body.body as string;
    expect(body.endsWith("a[REDACTED]")).toBe(true);
    expect(body.includes(CANARY.slice(0, 12))).toBe(false);
  });
});
