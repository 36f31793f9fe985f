import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type CmekKey, decryptCmekValue, encryptCmekValue, importCmekKey } from "../../lib/crypto/cmek";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addOrgUser } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";
import { captureStderr, type StderrCapture } from "../helpers/stderr";

/**
 * Enabling CMEK on a vault that already holds plaintext values (docs/cmek.md): the client reads every
 * readable version through the ordinary read, encrypts it, and sends the blobs with the fingerprint in
 * one request; the server swaps them in, in one transaction, or changes nothing. Dead versions
 * (disabled, expired, used up) are erased; deleted secrets with readable versions block it.
 * Canary values are only ever in the responses of the reads the client makes itself.
 */
let server: TestServer;
let api: ReturnType<typeof client>;
let orgId: string;
let stderr: StderrCapture;
const enableResponses: string[] = [];
const canaries: string[] = [];
const canary = (tag: string) => {
  const c = `canary-${tag}-${randomBytes(6).toString("hex")}`;
  canaries.push(c);
  return c;
};

async function newKey(): Promise<CmekKey> {
  return importCmekKey(randomBytes(32));
}

beforeAll(async () => {
  stderr = captureStderr();
  server = await startTestServer({ env: { TALON_BILLING: "on", TALON_LOG_LEVEL: "debug" } });
  const acct = await signUpVerified(server, { tier: "business" });
  orgId = acct.orgId;
  api = client(server.url, acct.token);
});
afterAll(async () => {
  stderr?.restore();
  await server?.close();
});

async function vaultWith(secrets: Record<string, string[]>, a = api): Promise<string> {
  const v = await a.post("/v1/vaults", { name: `existing-${randomUUID().slice(0, 8)}` });
  expect(v.status).toBe(201);
  for (const [path, values] of Object.entries(secrets)) {
    for (const value of values) expect((await a.put(`/v1/vaults/${v.body.id}/secrets/${path}`, { value })).status).toBe(201);
  }
  return v.body.id as string;
}

type Ref = { path: string; version: number };

/** What the dashboard does: reads each version through the API and encrypts it for its vault and path. */
async function encryptAll(vaultId: string, key: CmekKey, refs: Ref[], a = api) {
  const out = [];
  for (const r of refs) {
    const read = await a.get(`/v1/vaults/${vaultId}/secret-version/${r.path}/${r.version}`);
    expect(read.status, read.text).toBe(200);
    out.push({ ...r, blob: await encryptCmekValue(key, { vaultId, path: r.path }, read.body.value) });
  }
  return out;
}

async function enable(vaultId: string, key: CmekKey, versions: unknown[] | undefined, a = api) {
  const r = await a.post(`/v1/vaults/${vaultId}/cmek`, { fingerprint: key.fingerprint, ...(versions && { versions }) });
  enableResponses.push(r.text);
  return r;
}

/** Nothing changed: CMEK off, every version still a plain value with no customer key. */
async function expectUnchanged(vaultId: string, path: string, value: string) {
  expect((await api.get(`/v1/vaults/${vaultId}`)).body).toMatchObject({ cmek_enabled: false, cmek_fingerprint: null });
  expect(await server.rt.db.secretVersion.count({ where: { secret: { vaultId }, NOT: { cmekFingerprint: null } } })).toBe(0);
  expect((await api.get(`/v1/vaults/${vaultId}/secrets/${path}`)).body).toMatchObject({ value, cmek_encrypted: false });
}

describe("enabling on a vault with values", () => {
  test("every readable version (history included) is swapped for its blob; dead versions are erased; all in one transaction", async () => {
    const [a1, a2, b1, c1, d1, e1] = ["a1", "a2", "b1", "c1", "d1", "e1"].map(canary);
    const vaultId = await vaultWith({ "app/a": [a1!, a2!], "app/b": [b1!] });
    // Dead versions: disabled, expired, out of reads.
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/dead/c`, { value: c1 })).status).toBe(201);
    expect((await api.post(`/v1/vaults/${vaultId}/secret-version-disable/dead/c/1`, {})).status).toBe(204);
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/dead/d`, { value: d1, expires_at: new Date(Date.now() + 3_600_000).toISOString() })).status).toBe(201);
    await server.rt.db.secretVersion.updateMany({ where: { secret: { vaultId, path: "dead/d" } }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/dead/e`, { value: e1, max_access_count: 1 })).status).toBe(201);
    expect((await api.get(`/v1/vaults/${vaultId}/secrets/dead/e`)).status).toBe(200);

    const key = await newKey();
    const refs = [{ path: "app/a", version: 1 }, { path: "app/a", version: 2 }, { path: "app/b", version: 1 }];
    const on = await enable(vaultId, key, await encryptAll(vaultId, key, refs));
    expect(on.status, on.text).toBe(200);
    expect(on.body).toMatchObject({ cmek_enabled: true, cmek_fingerprint: key.fingerprint, cmek_job_id: null });

    for (const [r, plain] of [[refs[0]!, a1], [refs[1]!, a2], [refs[2]!, b1]] as const) {
      const read = await api.get(`/v1/vaults/${vaultId}/secret-version/${r.path}/${r.version}`);
      expect(read.body.cmek_encrypted).toBe(true);
      expect(read.text).not.toContain(plain);
      expect(await decryptCmekValue(key, { vaultId, path: r.path }, read.body.value)).toBe(plain);
    }
    const rows = await server.rt.db.secretVersion.findMany({ where: { secret: { vaultId } }, select: { cmekFingerprint: true, isDisabled: true, secret: { select: { path: true } } } });
    for (const r of rows) {
      if (r.secret.path.startsWith("dead/")) expect(r, r.secret.path).toMatchObject({ cmekFingerprint: null, isDisabled: true });
      else expect(r.cmekFingerprint).toBe(key.fingerprint);
    }
    // The erased versions stay refused (410), and what they held is gone, not merely hidden.
    for (const p of ["dead/c", "dead/d", "dead/e"]) expect((await api.get(`/v1/vaults/${vaultId}/secrets/${p}`)).status).toBe(410);
    for (const p of ["dead/c", "dead/d", "dead/e"]) {
      const row = await server.rt.db.secretVersion.findFirstOrThrow({ where: { secret: { vaultId, path: p } }, select: { ciphertext: true } });
      expect(row.ciphertext.length, p).toBe(1 + 12 + 16); // format byte, IV, tag: an empty value
    }
    const audit = await server.rt.db.auditEvent.findMany({ where: { action: "cmek.enable", resourceId: vaultId } });
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.details)).toMatchObject({ fingerprint: key.fingerprint, versions_encrypted: 3, versions_erased: 3 });
    // New writes need the key now.
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/app/a`, { value: "plain again" })).status).toBe(400);
  });

  test("without versions the API still refuses a vault with values (409 saying why); an empty vault needs none (positive control)", async () => {
    const vaultId = await vaultWith({ one: ["plain-one"] });
    const key = await newKey();
    const refused = await enable(vaultId, key, undefined);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/already holds 1 secret version.*never sees your key.*`versions`/);
    await expectUnchanged(vaultId, "one", "plain-one");
    const empty = await vaultWith({});
    expect((await enable(empty, key, undefined)).status).toBe(200);
  });

  test("a version missing from the set is 409 naming it, and nothing changes; the complete set then succeeds", async () => {
    const vaultId = await vaultWith({ "m/a": ["ma-1", "ma-2"], "m/b": ["mb-1"] });
    const key = await newKey();
    const all = await encryptAll(vaultId, key, [{ path: "m/a", version: 1 }, { path: "m/a", version: 2 }, { path: "m/b", version: 1 }]);
    const missing = await enable(vaultId, key, all.slice(0, 2));
    expect(missing.status).toBe(409);
    expect(missing.body.detail).toMatch(/1 readable version is missing \(m\/b@1\).*Nothing was changed/);
    await expectUnchanged(vaultId, "m/a", "ma-2");
    expect((await enable(vaultId, key, all)).status).toBe(200);
  });

  test("a version written after the client read the vault is 409 (missing); a version that does not exist is 409 (extra)", async () => {
    const vaultId = await vaultWith({ w: ["w-1"] });
    const key = await newKey();
    const blobs = await encryptAll(vaultId, key, [{ path: "w", version: 1 }]);
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/w`, { value: "w-2" })).status).toBe(201);
    const stale = await enable(vaultId, key, blobs);
    expect(stale.status).toBe(409);
    expect(stale.body.detail).toContain("w@2");
    await expectUnchanged(vaultId, "w", "w-2");

    const full = await encryptAll(vaultId, key, [{ path: "w", version: 1 }, { path: "w", version: 2 }]);
    const ghost = { path: "w", version: 3, blob: full[0]!.blob };
    const extra = await enable(vaultId, key, [...full, ghost]);
    expect(extra.status).toBe(409);
    expect(extra.body.detail).toMatch(/1 version does not exist in this vault \(w@3\)/);
    await expectUnchanged(vaultId, "w", "w-2");
    expect((await enable(vaultId, key, full)).status).toBe(200);
  });

  test("a blob under another key, a plaintext, a repeated version or a bad path is 400 naming the entry; nothing changes", async () => {
    const vaultId = await vaultWith({ x: ["x-1"], y: ["y-1"] });
    const key = await newKey();
    const other = await newKey();
    const good = await encryptAll(vaultId, key, [{ path: "x", version: 1 }, { path: "y", version: 1 }]);
    const wrongKey = [good[0], { path: "y", version: 1, blob: await encryptCmekValue(other, { vaultId, path: "y" }, "y-1") }];
    const r1 = await enable(vaultId, key, wrongKey);
    expect(r1.status).toBe(400);
    expect(r1.body.fields).toEqual([{ field: "versions.1.blob", message: expect.stringContaining(`key id ${other.keyId}`) }]);
    const r2 = await enable(vaultId, key, [good[0], { path: "y", version: 1, blob: "y-1" }]);
    expect(r2.status).toBe(400);
    expect(r2.body.fields[0].field).toBe("versions.1.blob");
    const r3 = await enable(vaultId, key, [good[0], good[1], good[0]]);
    expect(r3.status).toBe(400);
    expect(r3.body.fields[0].field).toBe("versions.2");
    const r4 = await enable(vaultId, key, [good[0], { ...good[1]!, path: "../y" }]);
    expect(r4.status).toBe(400);
    expect(r4.body.fields.map((f: { field: string }) => f.field)).toContain("versions.1.path");
    const r5 = await enable(vaultId, key, [good[0], { ...good[1]!, extra: 1 }]);
    expect(r5.status).toBe(400);
    await expectUnchanged(vaultId, "y", "y-1");
    // The server cannot check the path inside a blob (it has no key): a blob swapped between paths is stored, and fails to open for the key holder.
    expect((await enable(vaultId, key, good)).status).toBe(200);
  });

  test("a deleted secret with readable versions blocks it (409 naming the path) until it is restored", async () => {
    const vaultId = await vaultWith({ keep: ["keep-1"], gone: ["gone-1"] });
    expect((await api.delete(`/v1/vaults/${vaultId}/secrets/gone`)).status).toBe(204);
    const key = await newKey();
    const blocked = await enable(vaultId, key, await encryptAll(vaultId, key, [{ path: "keep", version: 1 }]));
    expect(blocked.status).toBe(409);
    expect(blocked.body.detail).toMatch(/Deleted secrets still hold readable versions \(gone\).*Restore them/);
    await expectUnchanged(vaultId, "keep", "keep-1");
    expect((await api.post(`/v1/vaults/${vaultId}/secret-restore/gone`, {})).status).toBe(200);
    const on = await enable(vaultId, key, await encryptAll(vaultId, key, [{ path: "keep", version: 1 }, { path: "gone", version: 1 }]));
    expect(on.status, on.text).toBe(200);
  });

  test("another org's vault is 404; a member who does not manage the vault is 403; an admin may (positive control)", async () => {
    const vaultId = await vaultWith({ s: ["s-1"] });
    const key = await newKey();
    const blobs = await encryptAll(vaultId, key, [{ path: "s", version: 1 }]);
    const stranger = await signUpVerified(server, { tier: "business" });
    expect((await enable(vaultId, key, blobs, client(server.url, stranger.token))).status).toBe(404);
    const member = await addOrgUser(server, orgId, "member");
    const refused = await enable(vaultId, key, blobs, member.api);
    expect(refused.status).toBe(403);
    await expectUnchanged(vaultId, "s", "s-1");
    const admin = await addOrgUser(server, orgId, "admin");
    expect((await enable(vaultId, key, blobs, admin.api)).status).toBe(200);
  });

  test("race: a plain write and the enable never both succeed, and an enabled vault never keeps a plain version", async () => {
    for (let round = 0; round < 6; round++) {
      const vaultId = await vaultWith({ r: ["r-1"] });
      const key = await newKey();
      const blobs = await encryptAll(vaultId, key, [{ path: "r", version: 1 }]);
      const [on, put] = await Promise.all([enable(vaultId, key, blobs), api.put(`/v1/vaults/${vaultId}/secrets/r`, { value: "r-2" })]);
      expect([on.status, put.status].filter((s) => s === 200 || s === 201), `${on.text} ${put.text}`).toHaveLength(1);
      if (on.status === 200) {
        expect([400, 409]).toContain(put.status);
        expect(await server.rt.db.secretVersion.count({ where: { secret: { vaultId }, cmekFingerprint: null, isDisabled: false } })).toBe(0);
      } else {
        expect(on.status).toBe(409);
        await expectUnchanged(vaultId, "r", "r-2");
      }
    }
  });
});

describe("the vault names its running key job", () => {
  test("cmek_job_id is the running job's id and null otherwise; a job whose server died reads stalled: true", async () => {
    const key = await newKey();
    const vaultId = await vaultWith({});
    expect((await enable(vaultId, key, undefined)).status).toBe(200);
    expect((await api.get(`/v1/vaults/${vaultId}`)).body.cmek_job_id).toBeNull();
    const jobId = randomUUID();
    await server.rt.db.cmekRotationJob.create({
      data: { id: jobId, orgId, vaultId, oldFingerprint: key.fingerprint, newFingerprint: "", status: "running", total: 10, processed: 4, createdBy: "test" },
    });
    await server.rt.db.vault.update({ where: { id: vaultId }, data: { cmekRotationJobId: jobId } });
    expect((await api.get(`/v1/vaults/${vaultId}`)).body.cmek_job_id).toBe(jobId);
    const listed = (await api.get("/v1/vaults")).body.vaults.find((v: { id: string }) => v.id === vaultId);
    expect(listed.cmek_job_id).toBe(jobId);
    expect((await api.get(`/v1/vaults/${vaultId}/cmek-rotate/${jobId}`)).body).toMatchObject({ status: "running", processed: 4, total: 10, stalled: false });
    // Its heartbeat stopped a minute ago (an explicit updatedAt overrides Prisma's own).
    await server.rt.db.cmekRotationJob.update({ where: { id: jobId }, data: { updatedAt: new Date(Date.now() - 60_000) } });
    expect((await api.get(`/v1/vaults/${vaultId}/cmek-rotate/${jobId}`)).body).toMatchObject({ status: "running", stalled: true });
  });
});

test("canaries: the values read are in no log line, no audit event and no enable response", async () => {
  expect(canaries.length).toBeGreaterThan(5);
  const audit = JSON.stringify(await server.rt.db.auditEvent.findMany());
  // Positive control: the haystacks hold what they should.
  expect(audit).toContain("versions_encrypted");
  expect(stderr.text()).toContain("mail written to outbox");
  for (const c of canaries) {
    expect(stderr.text().includes(c), "logs").toBe(false);
    expect(audit.includes(c), "audit").toBe(false);
    expect(enableResponses.join("\n").includes(c), "enable responses").toBe(false);
  }
});
