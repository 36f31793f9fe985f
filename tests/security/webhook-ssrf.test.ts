import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliverDue } from "../../server/webhooks/delivery";
import { OutboundRefused, refusedAddressReason, type Resolver, safePost, webhookUrlProblem } from "../../server/webhooks/ssrf";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";
import { type Receiver, startReceiver, waitFor } from "../helpers/webhook-receiver";

/**
 * The outbound boundary (server/webhooks/ssrf.ts): without TALON_WEBHOOK_ALLOW_PRIVATE a tenant's
 * URL never reaches a private, loopback, link-local, CGNAT, metadata or unique-local address, however
 * it is spelled and whatever DNS answers at send time; the connection goes to the address that was
 * checked (DNS is asked once, then pinned), redirects are not followed, bodies are capped and slow
 * receivers time out. DNS is played by an injected resolver: a real rebinding name needs a real
 * nameserver, and the resolver is exactly what the check and the pinned connection consult.
 */
let rcv: Receiver;
beforeAll(async () => {
  rcv = await startReceiver();
});
afterAll(async () => {
  await rcv?.close();
});

const post = (url: string, allowPrivate: boolean, resolver?: Resolver, extra: Partial<Parameters<typeof safePost>[0]> = {}) =>
  safePost({ url, method: "POST", headers: { "Content-Type": "application/json" }, body: "{}", allowPrivate, resolver, ...extra });

describe("address classification", () => {
  it("refuses every internal range in every spelling; public addresses pass (positive controls)", () => {
    const refused = [
      "127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1", "100.64.0.1", "100.100.100.200",
      "169.254.169.254", "0.0.0.0", "224.0.0.1", "255.255.255.255", "198.18.0.1",
      "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1",
      "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:7f00:1", "64:ff9b::7f00:1", "2002:7f00:1::", "2002:a9fe:a9fe::1",
    ];
    for (const ip of refused) expect(refusedAddressReason(ip), ip).not.toBeNull();
    for (const ip of ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]) {
      expect(refusedAddressReason(ip), ip).toBeNull();
    }
  });

  it("checks URLs at creation: https only, no credentials, no internal literal or local name (allowed with allow-private)", () => {
    expect(webhookUrlProblem("https://hooks.example.com/x", false)).toBeNull();
    for (const u of ["http://hooks.example.com/", "https://127.0.0.1/", "https://[::1]/", "https://[::ffff:127.0.0.1]/", "https://169.254.169.254/latest", "https://localhost/", "https://a.localhost/", "https://intranet/", "https://u:p@hooks.example.com/"]) {
      expect(webhookUrlProblem(u, false), u).not.toBeNull();
    }
    expect(webhookUrlProblem("http://127.0.0.1:8080/", true)).toBeNull();
    expect(webhookUrlProblem("https://u:p@127.0.0.1/", true)).not.toBeNull();
  });
});

describe("send-time checks", () => {
  it("a name resolving to loopback is refused without allow-private and nothing is sent; allowed with it (positive control)", async () => {
    const before = rcv.received.length;
    const toLoopback: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];
    await expect(post(`http://hooks.rebind.test:${rcv.port}/`, false, toLoopback)).rejects.toBeInstanceOf(OutboundRefused);
    await expect(post(`https://hooks.rebind.test:${rcv.port}/`, false, toLoopback)).rejects.toThrow(/loopback/);
    expect(rcv.received.length).toBe(before);
    const ok = await post(`http://hooks.rebind.test:${rcv.port}/pinned`, true, toLoopback);
    expect(ok.status).toBe(200);
    expect(rcv.received.at(-1)!.headers.host).toBe(`hooks.rebind.test:${rcv.port}`);
  });

  it("any refused answer among several refuses the name (a rebinding server mixing answers)", async () => {
    const mixed: Resolver = async () => [{ address: "93.184.216.34", family: 4 }, { address: "127.0.0.1", family: 4 }];
    await expect(post(`https://hooks.rebind.test/`, false, mixed)).rejects.toThrow(/loopback/);
    const mapped: Resolver = async () => [{ address: "::ffff:169.254.169.254", family: 6 }];
    await expect(post(`https://hooks.rebind.test/`, false, mapped)).rejects.toThrow(/link-local/);
  });

  it("DNS is asked once per request and the connection uses that answer (pinned), not a second lookup", async () => {
    let calls = 0;
    // First answer: the receiver. Any later lookup would get an unroutable documentation address.
    const rebinding: Resolver = async () => (calls++ === 0 ? [{ address: "127.0.0.1", family: 4 }] : [{ address: "192.0.2.1", family: 4 }]);
    const res = await post(`http://hooks.rebind.test:${rcv.port}/once`, true, rebinding, { timeoutMs: 2000 });
    expect(res.status).toBe(200);
    expect(res.address).toBe("127.0.0.1");
    expect(calls).toBe(1);
  });

  it("does not follow redirects, caps the body it reads, and times out a receiver that never answers", async () => {
    const target = await startReceiver();
    const redirecting = await startReceiver(() => ({ status: 307, headers: { Location: `${target.url}/inside` } }));
    const big = await startReceiver(() => ({ status: 200, body: "x".repeat(1_000_000) }));
    const hanging = await startReceiver(() => ({ status: 200, hang: true }));
    try {
      const r = await post(redirecting.url, true);
      expect(r.status).toBe(307);
      expect(target.received).toHaveLength(0);
      const b = await post(big.url, true, undefined, { maxResponseBytes: 4096 });
      expect(b.status).toBe(200);
      expect(b.body.length).toBe(4096);
      const started = Date.now();
      await expect(post(hanging.url, true, undefined, { timeoutMs: 300 })).rejects.toThrow(/300 ms/);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      for (const s of [target, redirecting, big, hanging]) await s.close();
    }
  });
});

describe("through the API, without allow-private", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { TALON_WEBHOOK_MAX_ATTEMPTS: "1" } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("refuses a loopback URL at creation; a public name that rebinds to loopback at send time is refused and never reached", async () => {
    const owner = await signUpVerified(server);
    const api = client(server.url, owner.token);
    const literal = await api.post("/v1/webhooks", { url: `http://127.0.0.1:${rcv.port}/`, events: ["audit.*"] });
    expect(literal.status).toBe(400);
    expect(literal.body.fields[0].field).toBe("url");
    const name = `hooks-${randomUUID().slice(0, 8)}.example.com`;
    const created = await api.post("/v1/webhooks", { url: `https://${name}:${rcv.port}/`, events: ["audit.*"] });
    expect(created.status).toBe(201);
    const before = rcv.received.length;
    const resolver: Resolver = async (host) => (host === name ? [{ address: "127.0.0.1", family: 4 }] : []);
    await waitFor("a claimed pass", async () => (await deliverDue(server.rt, { resolver })) > 0 || null);
    const hook = (await api.get(`/v1/webhooks/${created.body.id}`)).body;
    expect(hook.failed_deliveries).toBe(1);
    expect(hook.last_delivery.last_error).toMatch(/^refused: the host resolves to a loopback address/);
    expect(rcv.received.length).toBe(before);
  });
});
