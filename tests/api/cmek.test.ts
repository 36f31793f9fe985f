import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type CmekKey, decryptCmekValue, encodeCmekKey, encryptCmekValue, importCmekKey } from "../../lib/crypto/cmek";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, grant } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";
import { captureStderr, type StderrCapture } from "../helpers/stderr";

/**
 * Customer-managed keys over real HTTP (billing on, so the plan rule is live): enabling with only a
 * fingerprint, the write path's blob checks, agents receiving the blob, rotation and disable jobs, and
 * canaries — no key from a header ever reaches a log line, a response, an audit event or a row.
 */
let server: TestServer;
let api: ReturnType<typeof client>;
let token: string;
let stderr: StderrCapture;
const responses: string[] = [];
const keysUsed: Buffer[] = [];
type Key = { raw: Buffer; b64: string; key: CmekKey };
async function newKey(): Promise<Key> {
  const raw = randomBytes(32);
  keysUsed.push(raw);
  return { raw, b64: encodeCmekKey(raw), key: await importCmekKey(raw) };
}

/** Records every response body so the canary test can look through them. */
function recorded(c: ReturnType<typeof client>): ReturnType<typeof client> {
  const call: typeof c.call = async (...args) => {
    const r = await c.call(...args);
    responses.push(r.text, JSON.stringify([...r.headers]));
    return r;
  };
  return {
    ...c,
    call,
    get: (p, h) => call("GET", p, undefined, h),
    delete: (p, b, h) => call("DELETE", p, b, h),
    post: (p, b, h) => call("POST", p, b ?? {}, h),
    put: (p, b, h) => call("PUT", p, b, h),
  };
}

beforeAll(async () => {
  stderr = captureStderr();
  server = await startTestServer({ env: { TALON_BILLING: "on", TALON_LOG_LEVEL: "debug" } });
  const acct = await signUpVerified(server, { tier: "business" });
  token = acct.token;
  api = recorded(client(server.url, token));
});
afterAll(async () => {
  stderr?.restore();
  await server?.close();
});

async function cmekVault(k: Key, name = `v-${randomBytes(4).toString("hex")}`) {
  const v = await api.post("/v1/vaults", { name });
  expect(v.status).toBe(201);
  const on = await api.post(`/v1/vaults/${v.body.id}/cmek`, { fingerprint: k.key.fingerprint });
  expect(on.status).toBe(200);
  return v.body.id as string;
}

async function putBlob(vaultId: string, k: Key, path: string, plain: string) {
  const value = await encryptCmekValue(k.key, { vaultId, path }, plain);
  const r = await api.put(`/v1/vaults/${vaultId}/secrets/${path}`, { value, type: "api_key" });
  expect(r.status, r.text).toBe(201);
  return value;
}

async function waitJob(location: string) {
  for (let i = 0; i < 600; i++) {
    const j = await api.get(location);
    expect(j.status).toBe(200);
    if (j.body.status !== "running") return j.body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("job did not finish");
}

describe("enable", () => {
  test("only the fingerprint is sent; the vault answers cmek_enabled and the fingerprint; twice is 409", async () => {
    const k = await newKey();
    const v = await api.post("/v1/vaults", { name: "cmek-enable" });
    const on = await api.post(`/v1/vaults/${v.body.id}/cmek`, { fingerprint: k.key.fingerprint });
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({ id: v.body.id, cmek_enabled: true, cmek_fingerprint: k.key.fingerprint });
    expect((await api.get(`/v1/vaults/${v.body.id}`)).body).toMatchObject({ cmek_enabled: true, cmek_fingerprint: k.key.fingerprint });
    expect((await api.post(`/v1/vaults/${v.body.id}/cmek`, { fingerprint: k.key.fingerprint })).status).toBe(409);
    const audit = await server.rt.db.auditEvent.findMany({ where: { action: "cmek.enable", resourceId: v.body.id } });
    expect(audit).toHaveLength(1);
  });

  test("a malformed fingerprint is 400 naming it; unknown fields are 400", async () => {
    const v = await api.post("/v1/vaults", { name: "cmek-bad-fp" });
    const bad = await api.post(`/v1/vaults/${v.body.id}/cmek`, { fingerprint: "ABC" });
    expect(bad.status).toBe(400);
    expect(bad.body.fields.map((f: { field: string }) => f.field)).toContain("fingerprint");
    expect((await api.post(`/v1/vaults/${v.body.id}/cmek`, { fingerprint: "a".repeat(64), key: "x" })).status).toBe(400);
  });

  test("a vault that already holds plaintext versions is refused with a message saying what to do", async () => {
    const k = await newKey();
    const v = await api.post("/v1/vaults", { name: "cmek-has-plain" });
    expect((await api.put(`/v1/vaults/${v.body.id}/secrets/plain/one`, { value: "plain" })).status).toBe(201);
    const refused = await api.post(`/v1/vaults/${v.body.id}/cmek`, { fingerprint: k.key.fingerprint });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/already holds 1 secret version .*new, empty vault/);
    expect((await api.get(`/v1/vaults/${v.body.id}`)).body.cmek_enabled).toBe(false);
  });

  test("Business plan or above when billing is on: a pro org is 403, the same request on business is 200", async () => {
    const pro = await signUpVerified(server, { tier: "pro" });
    const proApi = recorded(client(server.url, pro.token));
    const k = await newKey();
    const v = await proApi.post("/v1/vaults", { name: "pro-vault" });
    const refused = await proApi.post(`/v1/vaults/${v.body.id}/cmek`, { fingerprint: k.key.fingerprint });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/Business plan/);
    await server.rt.db.org.update({ where: { id: pro.orgId }, data: { tier: "business" } });
    expect((await proApi.post(`/v1/vaults/${v.body.id}/cmek`, { fingerprint: k.key.fingerprint })).status).toBe(200);
  });

  test("another org's vault is 404; an agent cannot manage the key (403)", async () => {
    const k = await newKey();
    const vaultId = await cmekVault(k);
    const other = await signUpVerified(server, { tier: "business" });
    const otherApi = recorded(client(server.url, other.token));
    expect((await otherApi.post(`/v1/vaults/${vaultId}/cmek`, { fingerprint: k.key.fingerprint })).status).toBe(404);
    const n = await newKey();
    expect((await otherApi.post(`/v1/vaults/${vaultId}/cmek-rotate`, { new_fingerprint: n.key.fingerprint }, { "X-CMEK-Old-Key": k.b64, "X-CMEK-New-Key": n.b64 })).status).toBe(404);
    const agent = await addAgent(server, token);
    const agentVault = await api.post("/v1/vaults", { name: "agent-cmek" });
    await grant(api, agentVault.body.id, { secret_path_pattern: "**", principal_type: "agent", principal_id: agent.agentId, permissions: ["read", "write"] });
    expect((await recorded(agent.api).post(`/v1/vaults/${agentVault.body.id}/cmek`, { fingerprint: k.key.fingerprint })).status).toBe(403);
  });
});

describe("writes and reads in a CMEK vault", () => {
  test("only a blob under the vault's key is stored; reads return it as is with cmek_encrypted", async () => {
    const k = await newKey();
    const other = await newKey();
    const vaultId = await cmekVault(k);
    const plain = await api.put(`/v1/vaults/${vaultId}/secrets/db/password`, { value: "hunter2" });
    expect(plain.status).toBe(400);
    expect(plain.body.fields).toEqual([{ field: "value", message: expect.stringMatching(/base64/) }]);
    const wrongKey = await api.put(`/v1/vaults/${vaultId}/secrets/db/password`, { value: await encryptCmekValue(other.key, { vaultId, path: "db/password" }, "x") });
    expect(wrongKey.status).toBe(400);
    expect(wrongKey.body.detail).toContain(`key id ${other.key.keyId}`);
    const truncated = Buffer.from(await encryptCmekValue(k.key, { vaultId, path: "db/password" }, "x"), "base64").subarray(0, 20).toString("base64");
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/db/password`, { value: truncated })).status).toBe(400);

    const value = await encryptCmekValue(k.key, { vaultId, path: "db/password" }, "hunter2");
    const put = await api.put(`/v1/vaults/${vaultId}/secrets/db/password`, { value, type: "password" });
    expect(put.status).toBe(201);
    expect(put.body.cmek_encrypted).toBe(true);
    const read = await api.get(`/v1/vaults/${vaultId}/secrets/db/password`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ value, cmek_encrypted: true, version: 1 });
    expect(await decryptCmekValue(k.key, { vaultId, path: "db/password" }, read.body.value)).toBe("hunter2");
    const row = await server.rt.db.secretVersion.findFirstOrThrow({ where: { secret: { vaultId, path: "db/password" } } });
    expect(row.cmekFingerprint).toBe(k.key.fingerprint);
    // The server still seals the blob under the vault's HSM key: the row is not the blob.
    expect(Buffer.from(row.ciphertext).toString("utf8")).not.toContain(value.slice(0, 24));
  });

  test("a plain vault's values stay cmek_encrypted: false (positive control)", async () => {
    const v = await api.post("/v1/vaults", { name: "plain-vault" });
    const put = await api.put(`/v1/vaults/${v.body.id}/secrets/a`, { value: "plain" });
    expect(put.body.cmek_encrypted).toBe(false);
    expect((await api.get(`/v1/vaults/${v.body.id}/secrets/a`)).body).toMatchObject({ value: "plain", cmek_encrypted: false });
  });

  test("AAD binding: a blob moved to another path is stored but never opens there", async () => {
    const k = await newKey();
    const vaultId = await cmekVault(k);
    const blob = await putBlob(vaultId, k, "app/one", "first");
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/app/two`, { value: blob })).status).toBe(201);
    const moved = await api.get(`/v1/vaults/${vaultId}/secrets/app/two`);
    await expect(decryptCmekValue(k.key, { vaultId, path: "app/two" }, moved.body.value)).rejects.toThrow(/did not open/);
    expect(await decryptCmekValue(k.key, { vaultId, path: "app/one" }, moved.body.value)).toBe("first");
  });

  test("an agent with read access receives the blob, never the plaintext", async () => {
    const k = await newKey();
    const vaultId = await cmekVault(k);
    const blob = await putBlob(vaultId, k, "svc/token", "agent-canary-plaintext");
    const agent = await addAgent(server, token);
    await grant(api, vaultId, { secret_path_pattern: "svc/**", principal_type: "agent", principal_id: agent.agentId, permissions: ["read"] });
    const read = await recorded(agent.api).get(`/v1/vaults/${vaultId}/secrets/svc/token`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ value: blob, cmek_encrypted: true });
    expect(read.text).not.toContain("agent-canary-plaintext");
  });

  test("server-generated rotation is refused in a CMEK vault; a write during a key job is 409", async () => {
    const k = await newKey();
    const vaultId = await cmekVault(k);
    await putBlob(vaultId, k, "gen", "v1");
    const gen = await api.post(`/v1/vaults/${vaultId}/secret-rotate/gen`, {});
    expect(gen.status).toBe(409);
    expect(gen.body.detail).toMatch(/never holds/);
    // A job holds the vault (as a running rotation does): writes wait for it.
    await server.rt.db.vault.update({ where: { id: vaultId }, data: { cmekRotationJobId: "00000000-0000-4000-8000-000000000000" } });
    const during = await api.put(`/v1/vaults/${vaultId}/secrets/gen`, { value: await encryptCmekValue(k.key, { vaultId, path: "gen" }, "v2") });
    expect(during.status).toBe(409);
    await server.rt.db.vault.update({ where: { id: vaultId }, data: { cmekRotationJobId: null } });
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/gen`, { value: await encryptCmekValue(k.key, { vaultId, path: "gen" }, "v2") })).status).toBe(201);
  });
});

describe("rotation and disable", () => {
  test("headers are checked against the fingerprints; errors name the header, never its value", async () => {
    const k = await newKey();
    const n = await newKey();
    const vaultId = await cmekVault(k);
    const url = `/v1/vaults/${vaultId}/cmek-rotate`;
    const missing = await api.post(url, { new_fingerprint: n.key.fingerprint }, { "X-CMEK-Old-Key": k.b64 });
    expect(missing.status).toBe(400);
    const wrongOld = await api.post(url, { new_fingerprint: n.key.fingerprint }, { "X-CMEK-Old-Key": n.b64, "X-CMEK-New-Key": n.b64 });
    expect(wrongOld.status).toBe(400);
    expect(wrongOld.body.fields).toEqual([{ field: "X-CMEK-Old-Key", message: "does not match the vault's fingerprint" }]);
    const wrongNew = await api.post(url, { new_fingerprint: n.key.fingerprint }, { "X-CMEK-Old-Key": k.b64, "X-CMEK-New-Key": k.b64 });
    expect(wrongNew.status).toBe(400);
    expect(wrongNew.body.fields[0].field).toBe("X-CMEK-New-Key");
    const short = await api.post(url, { new_fingerprint: n.key.fingerprint }, { "X-CMEK-Old-Key": k.b64, "X-CMEK-New-Key": randomBytes(16).toString("base64") });
    expect(short.status).toBe(400);
    expect(short.body.detail).toBe("X-CMEK-New-Key must be the base64 of a 32-byte key");
    for (const r of [missing, wrongOld, wrongNew, short]) expect(r.text).not.toContain(k.b64);
  });

  test("rotates every version (history included) in batches; the vault moves to the new key; the second start is 409", async () => {
    const k = await newKey();
    const n = await newKey();
    const vaultId = await cmekVault(k);
    const paths = Array.from({ length: 130 }, (_, i) => `r/s${i}`);
    for (const p of paths) await putBlob(vaultId, k, p, `plain-${p}`);
    await putBlob(vaultId, k, "r/s0", "plain-r/s0-v2");
    const headers = { "X-CMEK-Old-Key": k.b64, "X-CMEK-New-Key": n.b64 };
    const [a, b] = await Promise.all([
      api.post(`/v1/vaults/${vaultId}/cmek-rotate`, { new_fingerprint: n.key.fingerprint }, headers),
      api.post(`/v1/vaults/${vaultId}/cmek-rotate`, { new_fingerprint: n.key.fingerprint }, headers),
    ]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    const started = a.status === 202 ? a : b;
    const location = started.headers.get("location")!;
    expect(location).toBe(`/v1/vaults/${vaultId}/cmek-rotate/${started.body.id}`);
    expect(started.body).toMatchObject({ kind: "rotate", status: "running", total: 131, old_fingerprint: k.key.fingerprint, new_fingerprint: n.key.fingerprint });
    const done = await waitJob(location);
    expect(done).toMatchObject({ status: "completed", processed: 131, total: 131, error: null, finished_at: expect.any(String) });
    expect((await api.get(`/v1/vaults/${vaultId}`)).body.cmek_fingerprint).toBe(n.key.fingerprint);
    const v1 = await api.get(`/v1/vaults/${vaultId}/secret-version/r/s0/1`);
    expect(await decryptCmekValue(n.key, { vaultId, path: "r/s0" }, v1.body.value)).toBe("plain-r/s0");
    const latest = await api.get(`/v1/vaults/${vaultId}/secrets/r/s129`);
    expect(await decryptCmekValue(n.key, { vaultId, path: "r/s129" }, latest.body.value)).toBe("plain-r/s129");
    const left = await server.rt.db.secretVersion.count({ where: { secret: { vaultId }, NOT: { cmekFingerprint: n.key.fingerprint } } });
    expect(left).toBe(0);
    // Writes now need the new key.
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/r/s1`, { value: await encryptCmekValue(k.key, { vaultId, path: "r/s1" }, "old") })).status).toBe(400);
    await putBlob(vaultId, n, "r/s1", "new");
    expect(await server.rt.db.auditEvent.count({ where: { action: "cmek.rotate", resourceId: vaultId } })).toBe(1);
  });

  test("disable needs the key and converts every version back to a plain value", async () => {
    const k = await newKey();
    const vaultId = await cmekVault(k);
    await putBlob(vaultId, k, "d/one", "plain-one");
    expect((await api.delete(`/v1/vaults/${vaultId}/cmek`)).status).toBe(400);
    const wrong = await newKey();
    expect((await api.delete(`/v1/vaults/${vaultId}/cmek`, undefined, { "X-CMEK-Key": wrong.b64 })).status).toBe(400);
    const off = await api.delete(`/v1/vaults/${vaultId}/cmek`, undefined, { "X-CMEK-Key": k.b64 });
    expect(off.status).toBe(202);
    expect(off.body).toMatchObject({ kind: "disable", new_fingerprint: null });
    expect(await waitJob(off.headers.get("location")!)).toMatchObject({ status: "completed", processed: 1, total: 1 });
    expect((await api.get(`/v1/vaults/${vaultId}`)).body).toMatchObject({ cmek_enabled: false, cmek_fingerprint: null });
    expect((await api.get(`/v1/vaults/${vaultId}/secrets/d/one`)).body).toMatchObject({ value: "plain-one", cmek_encrypted: false });
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/d/one`, { value: "plain again" })).status).toBe(201);
  });

  test("a job id of another vault is 404", async () => {
    const k = await newKey();
    const n = await newKey();
    const vaultId = await cmekVault(k);
    const r = await api.post(`/v1/vaults/${vaultId}/cmek-rotate`, { new_fingerprint: n.key.fingerprint }, { "X-CMEK-Old-Key": k.b64, "X-CMEK-New-Key": n.b64 });
    expect(r.status).toBe(202);
    await waitJob(r.headers.get("location")!);
    const otherVault = await api.post("/v1/vaults", { name: "other-for-job" });
    expect((await api.get(`/v1/vaults/${otherVault.body.id}/cmek-rotate/${r.body.id}`)).status).toBe(404);
  });
});

test("canaries: no key from a header or a key file is in any log line, response, audit event or job row", async () => {
  expect(keysUsed.length).toBeGreaterThan(10);
  const audit = JSON.stringify(await server.rt.db.auditEvent.findMany());
  const jobs = JSON.stringify(await server.rt.db.cmekRotationJob.findMany());
  const haystacks = { logs: stderr.text(), responses: responses.join("\n"), audit, jobs };
  // Positive control: the fingerprints are there, so the haystacks are the right ones.
  expect(haystacks.logs).toContain("mail written to outbox");
  expect(audit).toContain(keysUsed.length ? (await importCmekKey(keysUsed[0]!)).fingerprint : "");
  for (const raw of keysUsed) {
    for (const form of [raw.toString("base64"), raw.toString("hex"), raw.toString("base64url")]) {
      for (const [where, text] of Object.entries(haystacks)) expect(text.includes(form), `${where} contains a key`).toBe(false);
    }
  }
});
