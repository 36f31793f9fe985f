import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cmekFingerprint, encryptCmekValue, importCmekKey } from "../../lib/crypto/cmek";
import type { Ctx } from "../../server/http/principal";
import { ROTATION_ACTOR, startRotationScan } from "../../server/secrets/rotation-scan";
import { listScheduledRotations } from "../../server/secrets/rotation-schedule";
import { startWebhookJobs, type WebhookJobs } from "../../server/webhooks/jobs";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addOrgUser } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";
import { captureStderr, type StderrCapture } from "../helpers/stderr";
import { type Receiver, startReceiver, verifyTalonSignature, waitFor } from "../helpers/webhook-receiver";

/**
 * Issue 14 item 4: rotation schedules. With `rotation_policy.auto_rotate` the server itself writes a
 * generated value as the next version once the secret is due (sealed like any write, `secret.rotate`
 * audited as system:rotation, `secret.updated` delivered to webhooks), never before, and once per due
 * date; the next due date follows. Without it, a due secret is announced as `secret.rotation_due` to a
 * webhook subscribed to that event (a real loopback receiver). Auto rotation is refused where the
 * server cannot generate a valid value (CMEK vaults, key/certificate/file types), and a policy that
 * can no longer be honoured falls back to the reminder, naming why. The scan runs on its own timer
 * (TALON_ROTATION_SCAN_MS, small here), as in production.
 */
const SCAN_MS = 100;
const DAY = 86_400_000;
let server: TestServer;
let jobs: WebhookJobs;
let scan: { stop(): Promise<void> };
let stderr: StderrCapture;
const receivers: Receiver[] = [];

beforeAll(async () => {
  stderr = captureStderr();
  server = await startTestServer({
    env: { TALON_WEBHOOK_ALLOW_PRIVATE: "1", TALON_WEBHOOK_POLL_MS: "50", TALON_ROTATION_SCAN_MS: String(SCAN_MS), TALON_LOG_LEVEL: "debug" },
  });
  expect(server.rt.config.rotationScanMs).toBe(SCAN_MS);
  jobs = startWebhookJobs(server.rt);
  scan = startRotationScan(server.rt);
});
afterAll(async () => {
  await scan?.stop();
  await jobs?.stop();
  await server?.close();
  for (const r of receivers) await r.close();
  stderr?.restore();
});

async function org() {
  const owner = await signUpVerified(server);
  const api = client(server.url, owner.token);
  const vault = await api.post("/v1/vaults", { name: `rot-${randomUUID().slice(0, 8)}` });
  expect(vault.status).toBe(201);
  return { owner, api, vaultId: vault.body.id as string };
}

async function webhook(api: ReturnType<typeof client>, events: string[]) {
  const r = await startReceiver();
  receivers.push(r);
  const created = await api.post("/v1/webhooks", { url: `${r.url}/hook`, events });
  expect(created.status).toBe(201);
  return { receiver: r, secret: created.body.secret as string };
}

type Event = { id: string; type: string; data: Record<string, unknown> };
const eventsOf = (r: Receiver): Event[] => r.received.flatMap((x) => (JSON.parse(x.body) as { events: Event[] }).events);

/** Moves a secret's due date into the past, as if its interval had gone by. */
const makeDue = (vaultId: string, path: string) =>
  server.rt.db.secret.update({ where: { vaultId_path: { vaultId, path } }, data: { rotationDueAt: new Date(Date.now() - DAY) } });

/** Several scan periods, so "nothing happened" means the scan ran and chose to do nothing. */
const scans = (n = 5) => new Promise((r) => setTimeout(r, SCAN_MS * n));

describe("scheduled rotation (auto_rotate)", () => {
  it("when due, one new version with a generated value, audited as system:rotation and sent as secret.updated; not before, not twice", async () => {
    const { api, vaultId, owner } = await org();
    const hook = await webhook(api, ["secret.updated", "secret.rotation_due"]);
    const original = `sk-live-ORIGINAL-${randomBytes(8).toString("hex")}`;
    const policy = { interval_days: 30, auto_rotate: true, generate: { length: 48, charset: "hex" } };
    const put = await api.put(`/v1/vaults/${vaultId}/secrets/api/stripe`, { type: "api_key", value: original, metadata: { owner: "billing" }, rotation_policy: policy });
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ version: 1, rotation_policy: policy, rotation_due: false });

    // Not due yet: the scan leaves it alone.
    await scans();
    expect((await api.get(`/v1/vaults/${vaultId}/secrets/api/stripe`)).body).toMatchObject({ version: 1, value: original });

    await makeDue(vaultId, "api/stripe");
    const rotated = await waitFor("the scheduled rotation", async () => {
      const r = await api.get(`/v1/vaults/${vaultId}/secrets/api/stripe`);
      return r.body.version === 2 ? r.body : null;
    });
    expect(rotated.value).toMatch(/^[0-9a-f]{48}$/);
    expect(rotated.value).not.toBe(original);
    expect(rotated).toMatchObject({ type: "api_key", metadata: { owner: "billing" }, created_by: ROTATION_ACTOR, cmek_encrypted: false });
    // The next due date: this version + the interval.
    const listed = (await api.get(`/v1/vaults/${vaultId}/secrets?prefix=api/`)).body.secrets;
    expect(listed).toEqual([expect.objectContaining({ path: "api/stripe", version: 2, rotation_policy: policy, rotation_due: false })]);
    expect(Date.parse(listed[0].rotation_due_at) - Date.parse(rotated.created_at)).toBe(30 * DAY);

    // Several more scans: still version 2, one rotation event, no reminder.
    await scans();
    const versions = await api.get(`/v1/vaults/${vaultId}/secret-versions/api/stripe`);
    expect(versions.body.versions.map((v: { version: number; created_by: string }) => [v.version, v.created_by])).toEqual([
      [1, `user:${owner.userId}`],
      [2, ROTATION_ACTOR],
    ]);
    const audit = await server.rt.db.auditEvent.findMany({ where: { orgId: owner.orgId, resourceId: put.body.id, action: { in: ["secret.rotate", "secret.rotation_due"] } } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: "secret.rotate", actorId: ROTATION_ACTOR, actorType: "system" });
    expect(JSON.parse(audit[0]!.details)).toMatchObject({ vault_id: vaultId, path: "api/stripe", version: 2, type: "api_key" });

    const updated = await waitFor("secret.updated delivered", () => eventsOf(hook.receiver).find((e) => e.type === "secret.updated" && e.data.version === 2));
    expect(updated.data).toMatchObject({ secret_id: put.body.id, vault_id: vaultId, path: "api/stripe", action: "secret.rotate", actor: ROTATION_ACTOR });
    expect(eventsOf(hook.receiver).filter((e) => e.type === "secret.rotation_due")).toHaveLength(0);
    for (const r of hook.receiver.received) expect(verifyTalonSignature(hook.secret, r.headers["talon-signature"] as string, r.body)).toBe(true);

    // Neither value is in the audit log, a delivery or a log line.
    const everything = [JSON.stringify(await server.rt.db.auditEvent.findMany({ where: { orgId: owner.orgId } })), ...hook.receiver.received.map((r) => r.body), stderr.text()];
    for (const text of everything) {
      expect(text).not.toContain(original);
      expect(text).not.toContain(rotated.value);
    }

    const chain = await api.get("/v1/audit/verify");
    expect(chain.body.chain_valid).toBe(true);
  });

  it("the default generator (32 alphanumeric) when the policy names none; a deleted secret is never rotated", async () => {
    const { api, vaultId } = await org();
    for (const path of ["db/password", "db/old"]) {
      const put = await api.put(`/v1/vaults/${vaultId}/secrets/${path}`, { type: "password", value: "hunter2-original", rotation_policy: { interval_days: 1, auto_rotate: true } });
      expect(put.status).toBe(201);
    }
    // Deleted first, then due: the scan must leave it alone.
    expect((await api.delete(`/v1/vaults/${vaultId}/secrets/db/old`)).status).toBe(204);
    for (const path of ["db/password", "db/old"]) await makeDue(vaultId, path);
    const rotated = await waitFor("the scheduled rotation", async () => {
      const r = await api.get(`/v1/vaults/${vaultId}/secrets/db/password`);
      return r.body.version === 2 ? r.body : null;
    });
    expect(rotated.value).toMatch(/^[A-Za-z0-9]{32}$/);
    await scans();
    const old = await server.rt.db.secret.findFirstOrThrow({ where: { vaultId, path: "db/old" } });
    expect(old.currentVersion).toBe(1);
  });

  it("a human's new version resets the schedule: nothing is rotated until the new due date", async () => {
    const { api, vaultId } = await org();
    await api.put(`/v1/vaults/${vaultId}/secrets/svc/token`, { type: "api_key", value: "first", rotation_policy: { interval_days: 10, auto_rotate: true } });
    await makeDue(vaultId, "svc/token");
    // The PUT keeps the policy (absent) and restarts the interval. Whether a scan rotated in between or
    // not, nothing replaces the human's value afterwards: it is not due for 10 days.
    const put = await api.put(`/v1/vaults/${vaultId}/secrets/svc/token`, { type: "api_key", value: "second-by-human" });
    await scans();
    const now = await api.get(`/v1/vaults/${vaultId}/secrets/svc/token`);
    expect(now.body.value).toBe("second-by-human");
    expect(now.body.version).toBe(put.body.version);
    const listed = (await api.get(`/v1/vaults/${vaultId}/secrets?rotation_due=false`)).body.secrets;
    expect(listed).toEqual([expect.objectContaining({ path: "svc/token", rotation_due: false })]);
  });
});

describe("refusals", () => {
  it("400 for types a generated string is not valid for, or generate without auto_rotate, or a bad generator", async () => {
    const { api, vaultId } = await org();
    for (const type of ["private_key", "ssh_key", "certificate", "env_bundle"]) {
      const r = await api.put(`/v1/vaults/${vaultId}/secrets/k/${type}`, { type, value: "x", rotation_policy: { interval_days: 30, auto_rotate: true } });
      expect(r.status, type).toBe(400);
      expect(r.body.fields).toEqual([expect.objectContaining({ field: "rotation_policy.auto_rotate" })]);
      // The same type with a reminder only is fine (the positive control).
      const ok = await api.put(`/v1/vaults/${vaultId}/secrets/k/${type}`, { type, value: "x", rotation_policy: { interval_days: 30 } });
      expect(ok.status, type).toBe(201);
    }
    for (const [policy, field] of [
      [{ interval_days: 30, generate: { length: 16 } }, "rotation_policy.generate"],
      [{ interval_days: 30, auto_rotate: true, generate: { length: 4 } }, "rotation_policy.generate.length"],
      [{ interval_days: 30, auto_rotate: true, generate: { charset: "emoji" } }, "rotation_policy.generate.charset"],
      [{ interval_days: 30, auto_rotate: true, generate: { length: 16, symbols: true } }, "rotation_policy.generate.symbols"],
      [{ interval_days: 30, auto_rotate: "yes" }, "rotation_policy.auto_rotate"],
    ] as const) {
      const r = await api.put(`/v1/vaults/${vaultId}/secrets/bad/gen`, { type: "password", value: "x", rotation_policy: policy });
      expect(r.status, JSON.stringify(policy)).toBe(400);
      expect(r.body.fields.map((f: { field: string }) => f.field).join(" ")).toContain(field);
    }
  });

  it("409 in a CMEK vault: the server never holds the key that would seal the new value", async () => {
    const { api, vaultId } = await org();
    const raw = randomBytes(32);
    const key = await importCmekKey(raw);
    expect((await api.post(`/v1/vaults/${vaultId}/cmek`, { fingerprint: await cmekFingerprint(raw) })).status).toBe(200);
    const value = await encryptCmekValue(key, { vaultId, path: "api/key" }, "plain");
    const refused = await api.put(`/v1/vaults/${vaultId}/secrets/api/key`, { type: "api_key", value, rotation_policy: { interval_days: 30, auto_rotate: true } });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/customer-managed key/);
    const reminder = await api.put(`/v1/vaults/${vaultId}/secrets/api/key`, { type: "api_key", value, rotation_policy: { interval_days: 30 } });
    expect(reminder.status).toBe(201);
  });

  it("a kept auto_rotate policy the new type cannot honour falls back to a reminder naming why, sent as secret.rotation_due", async () => {
    const { api, vaultId, owner } = await org();
    const hook = await webhook(api, ["secret.rotation_due"]);
    const onlyUpdates = await webhook(api, ["secret.updated"]);
    await api.put(`/v1/vaults/${vaultId}/secrets/tls/key`, { type: "api_key", value: "k1", rotation_policy: { interval_days: 30, auto_rotate: true } });
    // Absent rotation_policy keeps it; the secret is a private key now.
    const put = await api.put(`/v1/vaults/${vaultId}/secrets/tls/key`, { type: "private_key", value: "-----BEGIN PRIVATE KEY-----" });
    expect(put.status).toBe(201);
    await makeDue(vaultId, "tls/key");
    const due = await waitFor("secret.rotation_due delivered", () => eventsOf(hook.receiver).find((e) => e.type === "secret.rotation_due"));
    expect(due.data).toMatchObject({ secret_id: put.body.id, vault_id: vaultId, path: "tls/key", version: 2 });
    expect(typeof due.data.due_at).toBe("string");
    const audit = await server.rt.db.auditEvent.findMany({ where: { orgId: owner.orgId, action: "secret.rotation_due", resourceId: put.body.id } });
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.details)).toMatchObject({ auto_rotate_refused: "type", version: 2 });
    expect((await api.get(`/v1/vaults/${vaultId}/secrets/tls/key`)).body.version).toBe(2);
    await scans();
    expect(eventsOf(hook.receiver).filter((e) => e.type === "secret.rotation_due")).toHaveLength(1);
    // A webhook that did not subscribe to it gets no reminder (but did get the two writes).
    expect(eventsOf(onlyUpdates.receiver).map((e) => e.type)).not.toContain("secret.rotation_due");
  });
});

describe("reminders through webhooks", () => {
  it("a due reminder-only secret reaches a webhook subscribed to secret.rotation_due, once, signed", async () => {
    const { api, vaultId } = await org();
    const hook = await webhook(api, ["secret.rotation_due"]);
    const put = await api.put(`/v1/vaults/${vaultId}/secrets/remind/me`, { value: "REMINDER-CANARY-VALUE", rotation_policy: { interval_days: 7 } });
    await makeDue(vaultId, "remind/me");
    const due = await waitFor("secret.rotation_due delivered", () => eventsOf(hook.receiver).find((e) => e.type === "secret.rotation_due"));
    expect(due.data).toMatchObject({ secret_id: put.body.id, vault_id: vaultId, path: "remind/me", version: 1 });
    await scans();
    expect(eventsOf(hook.receiver)).toHaveLength(1);
    expect(hook.receiver.received[0]!.body).not.toContain("REMINDER-CANARY-VALUE");
    expect(verifyTalonSignature(hook.secret, hook.receiver.received[0]!.headers["talon-signature"] as string, hook.receiver.received[0]!.body)).toBe(true);
    // Still version 1: a reminder never writes.
    expect((await api.get(`/v1/vaults/${vaultId}/secrets/remind/me`)).body.version).toBe(1);
  });
});

describe("the Rotation page's list", () => {
  const sessionCtx = (userId: string, orgId: string, role: "owner" | "member"): Ctx => ({
    rt: server.rt,
    principal: { kind: "user", userId, orgId, role, via: "session", credentialId: randomUUID() },
    requestId: randomUUID(),
    ip: "127.0.0.1",
  });

  it("due first, then by due date, across vaults; a member sees only the paths a policy lets them read; another org nothing", async () => {
    const { api, vaultId, owner } = await org();
    const second = (await api.post("/v1/vaults", { name: `rot-b-${randomUUID().slice(0, 8)}` })).body.id as string;
    await api.put(`/v1/vaults/${vaultId}/secrets/team/a`, { value: "a", rotation_policy: { interval_days: 30 } });
    await api.put(`/v1/vaults/${vaultId}/secrets/other/b`, { value: "b", rotation_policy: { interval_days: 10, auto_rotate: true } });
    await api.put(`/v1/vaults/${vaultId}/secrets/team/none`, { value: "no policy" });
    await api.put(`/v1/vaults/${second}/secrets/x/c`, { value: "c", rotation_policy: { interval_days: 20 } });
    await makeDue(vaultId, "team/a");

    const all = await listScheduledRotations(sessionCtx(owner.userId, owner.orgId, "owner"));
    expect(all.secrets.map((s) => [s.path, s.rotation_due])).toEqual([
      ["team/a", true],
      ["other/b", false],
      ["x/c", false],
    ]);
    expect(all.secrets[1]).toMatchObject({ vault_id: vaultId, version: 1, rotation_policy: { interval_days: 10, auto_rotate: true } });
    expect(JSON.stringify(all)).not.toMatch(/"(a|b|c)"/);

    const member = await addOrgUser(server, owner.orgId, "member");
    const memberCtx = sessionCtx(member.userId, owner.orgId, "member");
    expect((await listScheduledRotations(memberCtx)).secrets).toEqual([]);
    const policy = await api.post(`/v1/vaults/${vaultId}/policies`, { principal_type: "user", principal_id: member.userId, secret_path_pattern: "team/**", permissions: ["read"] });
    expect(policy.status).toBe(201);
    expect((await listScheduledRotations(memberCtx)).secrets.map((s) => s.path)).toEqual(["team/a"]);

    const stranger = await signUpVerified(server);
    expect((await listScheduledRotations(sessionCtx(stranger.userId, stranger.orgId, "owner"))).secrets).toEqual([]);
  });
});
