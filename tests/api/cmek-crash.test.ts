import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, expect, test } from "vitest";
import { type CmekKey, decryptCmekValue, encodeCmekKey, encryptCmekValue, importCmekKey, inspectCmekBlob } from "../../lib/crypto/cmek";
import { loadConfig } from "../../server/config";
import { openSecretVersion } from "../../server/crypto/envelope";
import { ensureSoftHsmToken } from "../../server/keystore/softhsm-setup";
import { createRuntime } from "../../server/runtime";
import { freePort } from "../../scripts/talon-process";
import { signUpVerified } from "../helpers/accounts";
import { type ApiProcess, NO_RATE_LIMITS, startApiProcess } from "../helpers/api-process";
import { client } from "../helpers/http";
import { createPostgresDatabase, testDialect, type TestServer } from "../helpers/server";

/** The API alone (no background jobs), logging at info so the key canary reads every line. */
const startCmekProcess = (dataDir: string, databaseUrl: string, port: number) =>
  startApiProcess({ TALON_DATA_DIR: dataDir, DATABASE_URL: databaseUrl, TALON_LOG_LEVEL: "info", ...NO_RATE_LIMITS }, { port, jobs: false, label: "cmek-process" });

/**
 * A CMEK rotation over 1,000 secrets survives `kill -9` of the server running it: after the crash every
 * version opens under exactly the key its row names (old or new, never neither), a restarted server
 * refuses the same keys while the dead job's lease runs, then resumes that job from the versions still
 * under the old key and finishes with processed = total.
 */
const SECRETS = 1000;
const cleanups: (() => Promise<void> | void)[] = [];
const t0 = Date.now();
const phase = (name: string) => console.log(`cmek-crash: ${name} after ${Math.round((Date.now() - t0) / 1000)} s`);
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function openEveryVersion(dataDir: string, databaseUrl: string, vaultId: string, keys: Map<string, CmekKey>) {
  const rt = await createRuntime(loadConfig({ TALON_DATA_DIR: dataDir, DATABASE_URL: databaseUrl, TALON_LOG_LEVEL: "error" }));
  try {
    const vault = await rt.db.vault.findUniqueOrThrow({ where: { id: vaultId } });
    const versions = await rt.db.secretVersion.findMany({ where: { secret: { vaultId } }, include: { secret: { select: { path: true } } } });
    const key = await rt.vaultKeys.vaultKey(vault);
    const byFingerprint = new Map<string, number>();
    for (const v of versions) {
      const blob = openSecretVersion(key, { vaultId, secretId: v.secretId, version: v.version }, v.ciphertext).toString("utf8");
      const under = keys.get(v.cmekFingerprint ?? "");
      expect(under, `version of ${v.secret.path} names a key we do not hold`).toBeDefined();
      const info = inspectCmekBlob(blob);
      expect(info.ok && info.keyId).toBe(under!.keyId);
      expect(await decryptCmekValue(under!, { vaultId, path: v.secret.path }, blob)).toBe(`plain-${v.secret.path}`);
      byFingerprint.set(v.cmekFingerprint!, (byFingerprint.get(v.cmekFingerprint!) ?? 0) + 1);
    }
    key.fill(0);
    return { count: versions.length, byFingerprint, vault };
  } finally {
    await rt.close();
  }
}

test("kill -9 mid-rotation, restart, same keys again: resumes and completes; no version under neither key", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "talon-cmek-crash-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  let databaseUrl = `file:${path.join(dataDir, "talon.db")}`;
  if (testDialect === "postgres") {
    const db = await createPostgresDatabase();
    cleanups.push(() => db.drop());
    databaseUrl = db.url;
  }
  ensureSoftHsmToken(dataDir, "talon");
  const port = await freePort();
  const procs: ApiProcess[] = [];
  cleanups.push(() => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  });

  const first = await startCmekProcess(dataDir, databaseUrl, port);
  procs.push(first);
  const acct = await signUpVerified({ url: first.url, dataDir } as TestServer, { tier: "free" });
  const api = client(first.url, acct.token);
  const oldRaw = randomBytes(32);
  const newRaw = randomBytes(32);
  const [oldKey, newKey] = await Promise.all([importCmekKey(oldRaw), importCmekKey(newRaw)]);
  const vault = await api.post("/v1/vaults", { name: "crash" });
  const vaultId = vault.body.id as string;
  expect((await api.post(`/v1/vaults/${vaultId}/cmek`, { fingerprint: oldKey.fingerprint })).status).toBe(200);

  const paths = Array.from({ length: SECRETS }, (_, i) => `svc/${String(i).padStart(4, "0")}`);
  for (let i = 0; i < paths.length; i += 10) {
    await Promise.all(
      paths.slice(i, i + 10).map(async (p) => {
        const value = await encryptCmekValue(oldKey, { vaultId, path: p }, `plain-${p}`);
        // A keep-alive socket the loaded server is closing can reset under the request: look before retrying.
        for (let attempt = 0; ; attempt++) {
          try {
            const r = await api.put(`/v1/vaults/${vaultId}/secrets/${p}`, { value });
            expect(r.status).toBe(201);
            return;
          } catch (e) {
            if (!(e instanceof TypeError) || attempt >= 3) throw new Error(`PUT ${p} failed: ${String(e)}\n${first.output().slice(-2000)}`);
            if ((await api.get(`/v1/vaults/${vaultId}/secret-versions/${p}`)).status === 200) return;
          }
        }
      }),
    );
  }

  phase("stored");
  const headers = { "X-CMEK-Old-Key": encodeCmekKey(oldRaw), "X-CMEK-New-Key": encodeCmekKey(newRaw) };
  const started = await api.post(`/v1/vaults/${vaultId}/cmek-rotate`, { new_fingerprint: newKey.fingerprint }, headers);
  expect(started.status).toBe(202);
  const location = started.headers.get("location")!;
  // Kill the server as soon as the first batch has committed.
  const killBy = Date.now() + 60_000;
  for (;;) {
    const j = await api.get(location);
    if (j.body.processed > 0) break;
    expect(j.body.status).toBe("running");
    expect(Date.now()).toBeLessThan(killBy);
  }
  first.child.kill("SIGKILL");
  await first.exited;
  phase("killed");

  const keys = new Map([[oldKey.fingerprint, oldKey], [newKey.fingerprint, newKey]]);
  const mid = await openEveryVersion(dataDir, databaseUrl, vaultId, keys);
  expect(mid.count).toBe(SECRETS);
  const movedAtCrash = mid.byFingerprint.get(newKey.fingerprint) ?? 0;
  // The crash really was in the middle: some versions moved, some not, in whole batches.
  expect(movedAtCrash).toBeGreaterThan(0);
  expect(movedAtCrash).toBeLessThan(SECRETS);
  expect(movedAtCrash % 100).toBe(0);
  expect(mid.vault.cmekFingerprint).toBe(oldKey.fingerprint);

  const second = await startCmekProcess(dataDir, databaseUrl, port);
  procs.push(second);
  const api2 = client(second.url, acct.token);
  const jobAfterCrash = await api2.get(location);
  expect(jobAfterCrash.body).toMatchObject({ status: "running", processed: movedAtCrash, total: SECRETS });

  // Different keys never take the job over; the same keys do once the dead job's lease has run out.
  const other = randomBytes(32);
  const hijack = await api2.post(`/v1/vaults/${vaultId}/cmek-rotate`, { new_fingerprint: (await importCmekKey(other)).fingerprint }, { ...headers, "X-CMEK-New-Key": encodeCmekKey(other) });
  expect(hijack.status).toBe(409);
  let resumed;
  const deadline = Date.now() + 30_000;
  for (;;) {
    resumed = await api2.post(`/v1/vaults/${vaultId}/cmek-rotate`, { new_fingerprint: newKey.fingerprint }, headers);
    if (resumed.status !== 409 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  phase("resume answered");
  expect(resumed.status).toBe(202);
  expect(resumed.body.id).toBe(started.body.id);
  expect(resumed.headers.get("location")).toBe(location);

  let done;
  for (let i = 0; i < 600; i++) {
    done = await api2.get(location);
    if (done.body.status !== "running") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(done!.body).toMatchObject({ status: "completed", processed: SECRETS, total: SECRETS, error: null });
  expect((await api2.get(`/v1/vaults/${vaultId}`)).body.cmek_fingerprint).toBe(newKey.fingerprint);
  second.child.kill("SIGKILL");
  await second.exited;

  const after = await openEveryVersion(dataDir, databaseUrl, vaultId, keys);
  expect(after.byFingerprint.get(newKey.fingerprint)).toBe(SECRETS);

  // Canary: neither server printed a key.
  for (const out of [first.output(), second.output()]) {
    for (const raw of [oldRaw, newRaw, other]) {
      expect(out).not.toContain(raw.toString("base64"));
      expect(out).not.toContain(raw.toString("hex"));
    }
    expect(out).toContain("cmek-process listening");
  }
}, 900_000);
