import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEBHOOKS_PER_ORG } from "../../lib/contract/webhooks";
import { scanExpiringSecrets } from "../../server/webhooks/expiring";
import { startWebhookJobs, type WebhookJobs } from "../../server/webhooks/jobs";
import { rewrapWebhookSecrets } from "../../server/webhooks/signing";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, addOrgUser } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";
import { captureStderr, type StderrCapture } from "../helpers/stderr";
import { type Receiver, startReceiver, verifyTalonSignature, waitFor } from "../helpers/webhook-receiver";

/**
 * Webhooks end to end on a real server with its delivery worker: owners and admins manage them
 * (members and agents 403, another org 404), the signing secret is shown once and found nowhere
 * else (list, audit export, logs), deliveries are signed batches a receiver verifies with the
 * documented recipe, carry event ids and the audit chain fields, are retried with backoff until the
 * receiver recovers, and are marked failed after the last attempt. Loopback receivers need
 * TALON_WEBHOOK_ALLOW_PRIVATE=1 here; tests/security/webhook-ssrf.test.ts covers the refusal.
 */
let server: TestServer;
let jobs: WebhookJobs;
let stderr: StderrCapture;
const receivers: Receiver[] = [];

beforeAll(async () => {
  stderr = captureStderr();
  server = await startTestServer({
    env: {
      TALON_WEBHOOK_ALLOW_PRIVATE: "1",
      TALON_WEBHOOK_POLL_MS: "50",
      TALON_WEBHOOK_RETRY_BASE_MS: "100",
      TALON_WEBHOOK_MAX_ATTEMPTS: "3",
      TALON_WEBHOOK_TIMEOUT_MS: "2000",
      TALON_TEST_LOG_LEVEL: "warn",
      TALON_LOG_LEVEL: "warn",
    },
  });
  jobs = startWebhookJobs(server.rt);
});
afterAll(async () => {
  await jobs?.stop();
  await server?.close();
  for (const r of receivers) await r.close();
  stderr?.restore();
});

async function receiver(...args: Parameters<typeof startReceiver>) {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

async function org() {
  const owner = await signUpVerified(server);
  const api = client(server.url, owner.token);
  const vault = await api.post("/v1/vaults", { name: `wh-${randomUUID().slice(0, 8)}` });
  expect(vault.status).toBe(201);
  return { owner, api, vaultId: vault.body.id as string };
}

type Event = { id: string; type: string; created_at: string; org_id: string; data: Record<string, unknown> };
const eventsOf = (r: Receiver): Event[] => r.received.flatMap((x) => (JSON.parse(x.body) as { events: Event[] }).events);

describe("managing webhooks", () => {
  it("owner creates (secret once), lists without it; admin may, member and agent get 403; another org gets 404", async () => {
    const { owner, api } = await org();
    const created = await api.post("/v1/webhooks", { url: "https://hooks.example.com/talon?k=1", events: ["audit.*"], description: "SIEM" });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ url: "https://hooks.example.com/talon?k=1", events: ["audit.*"], is_active: true, failed_deliveries: 0 });
    // Its own webhook.create audit event is already in the outbox. The worker (polling every 50 ms)
    // may have made its first attempt between the commit and the response's read of the counts; that
    // host does not resolve here, so the attempt leaves it pending.
    expect(created.body.pending_deliveries).toBe(1);
    if (created.body.last_delivery !== null)
      expect(created.body.last_delivery).toMatchObject({ event_type: "audit.webhook.create", state: "pending", last_status: null });
    const secret = created.body.secret as string;
    const list = await api.get("/v1/webhooks");
    expect(list.status).toBe(200);
    expect(list.body.webhooks.map((w: { id: string }) => w.id)).toContain(created.body.id);
    expect(list.text).not.toContain(secret);
    const one = await api.get(`/v1/webhooks/${created.body.id}`);
    expect(one.status).toBe(200);
    expect(one.text).not.toContain(secret);
    expect(one.body.secret).toBeUndefined();

    const me = await api.get("/v1/auth/me");
    const admin = await addOrgUser(server, me.body.org_id, "admin");
    expect((await admin.api.get("/v1/webhooks")).status).toBe(200);
    const member = await addOrgUser(server, me.body.org_id, "member");
    expect((await member.api.get("/v1/webhooks")).status).toBe(403);
    expect((await member.api.post("/v1/webhooks", { url: "https://hooks.example.com/x", events: ["audit.*"] })).status).toBe(403);
    const agent = await addAgent(server, owner.token);
    expect((await agent.api.get("/v1/webhooks")).status).toBe(403);

    const stranger = client(server.url, (await signUpVerified(server)).token);
    for (const r of [
      await stranger.get(`/v1/webhooks/${created.body.id}`),
      await stranger.patch(`/v1/webhooks/${created.body.id}`, { is_active: false }),
      await stranger.post(`/v1/webhooks/${created.body.id}/test`),
      await stranger.get(`/v1/webhooks/${created.body.id}/deliveries`),
      await stranger.delete(`/v1/webhooks/${created.body.id}`),
    ])
      expect(r.status).toBe(404);
    expect((await stranger.get("/v1/webhooks")).body.webhooks).toEqual([]);

    const patched = await api.patch(`/v1/webhooks/${created.body.id}`, { is_active: false, events: ["secret.updated"] });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ is_active: false, events: ["secret.updated"] });
    expect((await api.delete(`/v1/webhooks/${created.body.id}`)).status).toBe(204);
    expect((await api.get(`/v1/webhooks/${created.body.id}`)).status).toBe(404);

    // The secret is in no audit event, exported or not, nor in any log line.
    const exported = await api.get("/v1/audit/export?format=ndjson");
    expect(exported.status).toBe(200);
    expect(exported.text).toContain("webhook.create");
    expect(exported.text).not.toContain(secret);
    expect(exported.text).not.toContain("k=1");
    expect(stderr.text()).not.toContain(secret);
  });

  it("refuses bad input with the field named: credentials, non-http(s), unknown fields, unknown or repeated events", async () => {
    const { api } = await org();
    const cases: [Record<string, unknown>, string][] = [
      [{ url: "https://user:pw@hooks.example.com/", events: ["audit.*"] }, "url"],
      [{ url: "ftp://hooks.example.com/", events: ["audit.*"] }, "url"],
      [{ url: "https://hooks.example.com/#frag", events: ["audit.*"] }, "url"],
      [{ url: `https://hooks.example.com/${"a".repeat(2100)}`, events: ["audit.*"] }, "url"],
      [{ url: "https://hooks.example.com/", events: ["secret.read"] }, "events"],
      [{ url: "https://hooks.example.com/", events: ["audit.*", "audit.*"] }, "events"],
      [{ url: "https://hooks.example.com/", events: [] }, "events"],
      [{ url: "https://hooks.example.com/", events: ["audit.*"], secret: "whsec_mine" }, ""],
    ];
    for (const [body, field] of cases) {
      const r = await api.post("/v1/webhooks", body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      if (field) expect(JSON.stringify(r.body.fields ?? [])).toContain(field);
    }
    expect((await api.post("/v1/webhooks", { url: "https://hooks.example.com/", events: ["audit.*"] })).status).toBe(201);
  });

  it(`allows at most ${WEBHOOKS_PER_ORG} per org, also under concurrent creation (one lock, one count)`, async () => {
    const { api } = await org();
    const results = await Promise.all(
      Array.from({ length: WEBHOOKS_PER_ORG + 5 }, (_, i) => api.post("/v1/webhooks", { url: `https://hooks.example.com/${i}`, events: ["audit.*"] })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(WEBHOOKS_PER_ORG);
    expect(results.filter((r) => r.status === 409)).toHaveLength(5);
    expect((await api.get("/v1/webhooks")).body.webhooks).toHaveLength(WEBHOOKS_PER_ORG);
  });
});

describe("deliveries", () => {
  it("sends signed batches with event ids, audit chain fields and secret changes; never a value", async () => {
    const rcv = await receiver();
    const { api, vaultId } = await org();
    const created = await api.post("/v1/webhooks", { url: `${rcv.url}/hook`, events: ["audit.*", "secret.updated", "secret.deleted"] });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    const canary = `canary-${randomUUID()}`;
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/app/token`, { value: canary })).status).toBe(201);
    expect((await api.get(`/v1/vaults/${vaultId}/secrets/app/token`)).status).toBe(200);
    expect((await api.delete(`/v1/vaults/${vaultId}/secrets/app/token`)).status).toBe(204);

    const events = await waitFor("the deleted event", () => {
      const all = eventsOf(rcv);
      return all.some((e) => e.type === "secret.deleted") && all.some((e) => e.type === "audit.secret.delete") ? all : null;
    });
    for (const r of rcv.received) {
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers["talon-webhook-id"]).toBe(created.body.id);
      expect(verifyTalonSignature(secret, r.headers["talon-signature"] as string, r.body)).toBe(true);
      // Positive control for the check itself: another secret or a changed body fails it.
      expect(verifyTalonSignature(`${secret}x`, r.headers["talon-signature"] as string, r.body)).toBe(false);
      expect(verifyTalonSignature(secret, r.headers["talon-signature"] as string, `${r.body} `)).toBe(false);
      expect(r.body).not.toContain(canary);
      expect(r.body).not.toContain(secret);
    }
    const ids = events.map((e) => e.id);
    for (const id of ids) expect(id).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
    const types = events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(["audit.webhook.create", "audit.secret.write", "audit.secret.read", "audit.secret.delete", "secret.updated", "secret.deleted"]));
    const updated = events.find((e) => e.type === "secret.updated")!;
    expect(updated.data).toMatchObject({ vault_id: vaultId, path: "app/token", version: 1, action: "secret.write" });

    // The audit events carry the chain exactly as the export does.
    const exported = (await api.get("/v1/audit/export?format=ndjson")).text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const write = events.find((e) => e.type === "audit.secret.write")!;
    const same = exported.find((x) => x.id === write.data.id)!;
    expect(write.data).toEqual(same);
    expect(write.data.hash).toMatch(/^[0-9a-f]{64}$/);

    // The export above is itself an audit event: wait until it too has gone out.
    const hook = await waitFor("an empty outbox", async () => {
      const w = await api.get(`/v1/webhooks/${created.body.id}`);
      return w.body.pending_deliveries === 0 ? w.body : null;
    });
    expect(hook.failed_deliveries).toBe(0);
    expect(hook.last_delivery).toMatchObject({ state: "delivered", last_status: 200 });
  });

  it("retries a failing receiver with backoff until it recovers, then delivers each event once", async () => {
    const rcv = await receiver((n) => ({ status: n <= 2 ? 503 : 200 }));
    const { api, vaultId } = await org();
    const created = await api.post("/v1/webhooks", { url: rcv.url, events: ["secret.updated"] });
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/k`, { value: "v1" })).status).toBe(201);
    await waitFor("delivery after recovery", () => rcv.received.length >= 3);
    const deliveries = await waitFor("delivered state", async () => {
      const d = await api.get(`/v1/webhooks/${created.body.id}/deliveries`);
      return d.body.deliveries[0]?.state === "delivered" ? d.body.deliveries : null;
    });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ event_type: "secret.updated", attempts: 3, last_status: 200, last_error: null });
    // Same event id on every attempt (receivers dedupe on it), with backoff between attempts.
    const ids = rcv.received.map((r) => (JSON.parse(r.body) as { events: Event[] }).events[0]!.id);
    expect(new Set(ids).size).toBe(1);
    expect(rcv.received[2]!.at - rcv.received[1]!.at).toBeGreaterThanOrEqual(90);
  });

  it("gives up after the last attempt and shows the delivery as failed; a redirect is a failure, never followed", async () => {
    const target = await receiver();
    const rcv = await receiver(() => ({ status: 302, headers: { Location: `${target.url}/elsewhere` } }));
    const { api, vaultId } = await org();
    const created = await api.post("/v1/webhooks", { url: rcv.url, events: ["secret.updated"] });
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/k`, { value: "v1" })).status).toBe(201);
    const hook = await waitFor("failed state", async () => {
      const w = await api.get(`/v1/webhooks/${created.body.id}`);
      return w.body.failed_deliveries === 1 ? w.body : null;
    });
    expect(hook.pending_deliveries).toBe(0);
    expect(hook.last_delivery).toMatchObject({ state: "failed", attempts: 3, last_status: 302, last_error: "redirect refused (HTTP 302)" });
    expect(rcv.received).toHaveLength(3);
    expect(target.received).toHaveLength(0);
    const d = await api.get(`/v1/webhooks/${created.body.id}/deliveries`);
    expect(d.body.deliveries[0]).toMatchObject({ state: "failed", next_attempt_at: null });
  });

  it("test-send reports the receiver's answer", async () => {
    const ok = await receiver();
    const bad = await receiver(() => ({ status: 500 }));
    const { api } = await org();
    const a = await api.post("/v1/webhooks", { url: ok.url, events: ["secret.updated"] });
    const b = await api.post("/v1/webhooks", { url: bad.url, events: ["secret.updated"] });
    const ra = await api.post(`/v1/webhooks/${a.body.id}/test`);
    expect(ra.status).toBe(200);
    expect(ra.body).toMatchObject({ delivered: true, status: 200, error: null });
    const sent = JSON.parse(ok.received[0]!.body) as { events: Event[] };
    expect(sent.events[0]).toMatchObject({ id: ra.body.event_id, type: "webhook.test" });
    expect(verifyTalonSignature(a.body.secret, ok.received[0]!.headers["talon-signature"] as string, ok.received[0]!.body)).toBe(true);
    const rb = await api.post(`/v1/webhooks/${b.body.id}/test`);
    expect(rb.body).toMatchObject({ delivered: false, status: 500, error: "HTTP 500" });
  });

  it("secret.expiring: once per version whose expires_at is within 7 days, however often the scan runs", async () => {
    const rcv = await receiver();
    const { api, vaultId } = await org();
    const created = await api.post("/v1/webhooks", { url: rcv.url, events: ["secret.expiring"] });
    const soon = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const later = new Date(Date.now() + 30 * 86_400_000).toISOString();
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/soon`, { value: "a", expires_at: soon })).status).toBe(201);
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/later`, { value: "b", expires_at: later })).status).toBe(201);
    expect(await scanExpiringSecrets(server.rt)).toBeGreaterThanOrEqual(1);
    await scanExpiringSecrets(server.rt);
    await waitFor("expiring event", () => eventsOf(rcv).length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    const events = eventsOf(rcv);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "secret.expiring", data: { path: "soon", version: 1 } });
    expect(Date.parse(String(events[0]!.data.expires_at))).toBe(Date.parse(soon));
    const d = await api.get(`/v1/webhooks/${created.body.id}/deliveries`);
    expect(d.body.deliveries).toHaveLength(1);
  });
});

describe("master-key rotation", () => {
  it("rewraps signing secrets under the new master key: deliveries still verify after the old key is destroyed", async () => {
    const rcv = await receiver();
    const { api } = await org();
    const created = await api.post("/v1/webhooks", { url: rcv.url, events: ["secret.updated"] });
    const { keystore } = server.rt;
    const from = await keystore.currentMasterKeyVersion();
    const versionOf = async () => Buffer.from((await server.rt.db.webhook.findUnique({ where: { id: created.body.id } }))!.sealedSecret).readUInt32BE(0);
    expect(await versionOf()).toBe(from);
    await keystore.ensureMasterKey(from + 1);
    const result = await rewrapWebhookSecrets(server.rt, from + 1);
    expect(result.failedWebhookIds).toEqual([]);
    expect(result.rewrapped).toBeGreaterThanOrEqual(1);
    expect(await versionOf()).toBe(from + 1);
    await keystore.destroyMasterKey(from);
    const sent = await api.post(`/v1/webhooks/${created.body.id}/test`);
    expect(sent.body).toMatchObject({ delivered: true, status: 200 });
    const got = rcv.received.at(-1)!;
    expect(verifyTalonSignature(created.body.secret as string, got.headers["talon-signature"] as string, got.body)).toBe(true);
    expect((await rewrapWebhookSecrets(server.rt, from + 1)).rewrapped).toBe(0);
  });
});
