import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeBinding } from "../../server/bindings/execute";
import { ApiError } from "../../server/http/errors";
import type { Ctx } from "../../server/http/principal";
import { authenticateBearer } from "../../server/identity/authenticate";
import type { Resolver } from "../../server/net/outbound";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, grant } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";
import { type Receiver, startReceiver } from "../helpers/webhook-receiver";

/**
 * The outbound boundary of execute (server/bindings/execute.ts over server/net/outbound.ts): a binding
 * not marked internal never reaches loopback, private, link-local or metadata addresses — refused when
 * created, in every spelling, and again at send time on what DNS answers then (a name rebinding to
 * loopback is refused and the connection is pinned to the checked address); redirects leave neither
 * the destination nor its prefix, so the credential never reaches another origin; bodies are capped and
 * a silent upstream times out. DNS is played by an injected resolver, as in webhook-ssrf.test.ts.
 */
let server: TestServer;
let upstream: Receiver;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let api: ReturnType<typeof client>;
let vaultId: string;
let agent: Awaited<ReturnType<typeof addAgent>>;
const CANARY = `cnry-ssrf-${randomUUID()}`;

beforeAll(async () => {
  server = await startTestServer();
  upstream = await startReceiver(() => ({ status: 200, body: "ok" }));
  owner = await signUpVerified(server);
  api = client(server.url, owner.token);
  vaultId = (await api.post("/v1/vaults", { name: `ssrf-${randomUUID().slice(0, 6)}` })).body.id;
  expect((await api.put(`/v1/vaults/${vaultId}/secrets/svc/token`, { value: CANARY })).status).toBe(201);
  agent = await addAgent(server, owner.token);
  await grant(api, vaultId, { secret_path_pattern: "svc/**", principal_type: "agent", principal_id: agent.agentId, permissions: ["use"] });
});

afterAll(async () => {
  await upstream?.close();
  await server?.close();
});

const publicBinding = (name: string, host: string, extra: Record<string, unknown> = {}) => ({
  name,
  secret_path: "svc/token",
  scheme: "https",
  host,
  path_prefix: "/",
  methods: ["GET", "POST"],
  inject: { kind: "bearer" },
  ...extra,
});

async function agentCtx(): Promise<Ctx> {
  const principal = await authenticateBearer(server.rt, agent.token, { ip: "127.0.0.1", requestId: randomUUID() } as never);
  return { rt: server.rt, principal, requestId: randomUUID(), ip: "127.0.0.1" };
}

async function statusOf(p: Promise<unknown>): Promise<{ status: number; detail: string }> {
  try {
    await p;
    return { status: 200, detail: "" };
  } catch (e) {
    if (e instanceof ApiError) return { status: e.status, detail: e.detail };
    throw e;
  }
}

describe("destinations a non-internal binding may not name", () => {
  it("refuses internal addresses in every spelling at creation; a public name passes (positive control)", async () => {
    const refused = [
      "127.0.0.1", "127.1", "10.0.0.1", "172.16.0.5", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
      "[::1]", "::1", "[::ffff:127.0.0.1]", "[::ffff:a9fe:a9fe]", "[fd00:ec2::254]",
      "2130706433", "0x7f000001", "0177.0.0.1", "0x7f.1", "2852039166", "localhost", "svc.localhost", "intranet",
    ];
    for (const [i, host] of refused.entries()) {
      const r = await api.post(`/v1/vaults/${vaultId}/bindings`, publicBinding(`bad-${i}`, host));
      expect(r.status, host).toBe(400);
      expect(r.body.fields[0].field, host).toBe("host");
    }
    expect((await api.post(`/v1/vaults/${vaultId}/bindings`, publicBinding("public", "api.example.com"))).status).toBe(201);
  });

  it("refuses at send time a stored non-internal binding whose host is internal, and nothing reaches it", async () => {
    // A row that did not come through the create check (e.g. written before it, or by hand): the send-time rule still holds.
    const id = randomUUID();
    await server.rt.db.binding.create({
      data: { id, orgId: owner.orgId, vaultId, name: "legacy", secretPath: "svc/token", scheme: "http", host: "127.0.0.1", port: upstream.port, injectKind: "bearer", createdBy: `user:${owner.userId}` },
    });
    const before = upstream.received.length;
    const r = await agent.api.post(`/v1/agents/${agent.agentId}/execute`, { binding: id, path: "/x" });
    expect(r.status).toBe(403);
    expect(r.body.detail).toMatch(/loopback address/);
    expect(upstream.received.length).toBe(before);
    // Positive control: marked internal (by a human, here through the owner), the same destination is reached.
    expect((await api.patch(`/v1/vaults/${vaultId}/bindings/${id}`, { internal: true })).status).toBe(200);
    expect((await agent.api.post(`/v1/agents/${agent.agentId}/execute`, { binding: id, path: "/x" })).status).toBe(200);
    expect(upstream.received.at(-1)!.headers.authorization).toBe(`Bearer ${CANARY}`);
  });

  it("refuses a public name that resolves to loopback, link-local or a mix at send time (DNS rebinding); DNS is asked once and pinned", async () => {
    const name = `api-${randomUUID().slice(0, 8)}.example.com`;
    const created = await api.post(`/v1/vaults/${vaultId}/bindings`, publicBinding("rebinding", name, { scheme: "https", port: upstream.port }));
    expect(created.status).toBe(201);
    const ctx = await agentCtx();
    const input = { binding: created.body.id, method: "GET" as const, path: "/", query: {}, headers: {} };
    const before = upstream.received.length;
    for (const answers of [
      [{ address: "127.0.0.1", family: 4 as const }],
      [{ address: "::ffff:169.254.169.254", family: 6 as const }],
      [{ address: "93.184.216.34", family: 4 as const }, { address: "10.1.2.3", family: 4 as const }],
    ]) {
      let calls = 0;
      const resolver: Resolver = async (host) => {
        calls++;
        return host === name ? answers : [];
      };
      const r = await statusOf(executeBinding(ctx, agent.agentId, input, { resolver }));
      expect(r.status).toBe(403);
      expect(r.detail).toMatch(/destination was refused: the host resolves to a/);
      expect(calls).toBe(1);
    }
    expect(upstream.received.length).toBe(before);
  });
});

describe("redirects, caps and time", () => {
  let other: Receiver;
  let redirecting: Receiver;
  beforeAll(async () => {
    other = await startReceiver(() => ({ status: 200, body: "other origin" }));
    redirecting = await startReceiver((_n, r) => {
      if (r.path.startsWith("/api/away")) return { status: 302, headers: { Location: `${other.url}/steal` } };
      if (r.path.startsWith("/api/port")) return { status: 307, headers: { Location: `http://127.0.0.1:${other.port}/api/final` } };
      if (r.path.startsWith("/api/outside")) return { status: 302, headers: { Location: "/admin" } };
      if (r.path.startsWith("/api/loop")) return { status: 302, headers: { Location: "/api/loop" } };
      if (r.path.startsWith("/api/inside")) return { status: 302, headers: { Location: "/api/final" } };
      if (r.path.startsWith("/api/big")) return { status: 200, body: "y".repeat(2 * 1024 * 1024) };
      return { status: 200, body: `final ${r.path}` };
    });
    const r = await api.post(`/v1/vaults/${vaultId}/bindings`, {
      ...publicBinding("redir", "127.0.0.1", { scheme: "http", port: redirecting.port, internal: true }),
      path_prefix: "/api/",
    });
    expect(r.status).toBe(201);
  });
  afterAll(async () => {
    await other?.close();
    await redirecting?.close();
  });

  const exec = (body: Record<string, unknown>) => agent.api.post(`/v1/agents/${agent.agentId}/execute`, { binding: "redir", ...body });

  it("follows a redirect within the destination and prefix, with the credential; returns any other as is, and the other origin receives nothing", async () => {
    const inside = await exec({ path: "/api/inside" });
    expect(inside.status).toBe(200);
    expect(inside.body).toMatchObject({ status: 200, body: "final /api/final", redirects_followed: 1 });
    expect(redirecting.received.at(-1)!.headers.authorization).toBe(`Bearer ${CANARY}`);

    for (const path of ["/api/away", "/api/port", "/api/outside"]) {
      const r = await exec({ path });
      expect(r.status, path).toBe(200);
      expect([302, 307], path).toContain(r.body.status);
      expect(r.body.redirects_followed, path).toBe(0);
      expect(r.body.headers.location, path).toBeDefined();
    }
    expect(other.received).toHaveLength(0);

    const loop = await exec({ path: "/api/loop" });
    expect(loop.body).toMatchObject({ status: 302, redirects_followed: 3 });
  });

  it("caps the answer at 1 MiB, refuses request bodies over 48 KiB, and times out a silent upstream", async () => {
    const big = await exec({ path: "/api/big" });
    expect(big.status).toBe(200);
    expect(big.body.body_truncated).toBe(true);
    expect(big.body.body.length).toBe(1024 * 1024);

    const tooBig = await exec({ method: "POST", path: "/api/echo", body: "z".repeat(48 * 1024 + 1) });
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.fields[0].field).toBe("body");
    const fits = await exec({ method: "POST", path: "/api/echo", body: "z".repeat(40 * 1024) });
    expect(fits.status).toBe(200);

    const hanging = await startReceiver(() => ({ status: 200, hang: true }));
    try {
      const b = await api.post(`/v1/vaults/${vaultId}/bindings`, publicBinding("hang", "127.0.0.1", { scheme: "http", port: hanging.port, internal: true }));
      const started = Date.now();
      const ctx = await agentCtx();
      const r = await statusOf(executeBinding(ctx, agent.agentId, { binding: b.body.id, method: "GET", path: "/", query: {}, headers: {} }, { timeoutMs: 300 }));
      expect(r.status).toBe(504);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(hanging.received).toHaveLength(1);
    } finally {
      await hanging.close();
    }
  });
});
