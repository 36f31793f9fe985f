import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openBackupFile } from "../../server/ops/backup-file";
import type { BackupManifest } from "../../server/ops/manifest";
import { assertMasterKeysPresent } from "../../server/ops/master-keys";
import { TALON_VERSION } from "../../server/version";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { createPostgresDatabase, startTestServer, testDialect } from "../helpers/server";

/**
 * `npm run backup` / `npm run restore` as an operator runs them (the scripts, in their own process),
 * on this run's database. A backup taken while Talon writes restores into a fresh data dir or an
 * empty PostgreSQL database; with the same HSM token every secret reads back and the audit chain
 * verifies; with another token, start-up refuses naming the missing master key; a damaged backup is
 * refused before anything is written.
 */
const ROOT = path.resolve(import.meta.dirname, "../..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");

type Run = { code: number; stdout: string; stderr: string };
function runScript(script: "backup" | "restore", args: string[], target: { dataDir: string; databaseUrl: string }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      [path.join(ROOT, `scripts/${script}.ts`), ...args],
      { cwd: ROOT, env: { ...process.env, TALON_DATA_DIR: target.dataDir, DATABASE_URL: target.databaseUrl, TALON_LOG_LEVEL: "error" }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

const work = mkdtempSync(path.join(tmpdir(), "talon-backup-test-"));
const cleanups: (() => Promise<void>)[] = [];
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let vaultId: string;
const secrets = new Map<string, string>();
let firstVersionValue: string;
let backupFile: string;
let manifest: BackupManifest;
/** The source's SoftHSM2 token directory and PIN file, copied aside as the runbook says. */
let tokenCopy: string;
let pin: string;

/** A fresh target: a new data dir and, on PostgreSQL, a new empty database. `withToken` copies the source's token into it. */
async function freshTarget(withToken: boolean): Promise<{ dataDir: string; databaseUrl: string }> {
  const dataDir = mkdtempSync(path.join(work, "target-"));
  if (withToken) {
    mkdirSync(path.join(dataDir, "hsm"), { mode: 0o700 });
    cpSync(path.join(tokenCopy, "tokens"), path.join(dataDir, "hsm", "tokens"), { recursive: true });
    cpSync(path.join(tokenCopy, "pin"), path.join(dataDir, "hsm", "pin"));
  }
  if (testDialect === "sqlite") return { dataDir, databaseUrl: `file:${path.join(dataDir, "talon.db")}` };
  const db = await createPostgresDatabase();
  cleanups.push(() => db.drop());
  return { dataDir, databaseUrl: db.url };
}

async function tableCount(databaseUrl: string): Promise<number> {
  if (testDialect === "sqlite") return existsSync(databaseUrl.slice("file:".length)) ? 1 : 0;
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    return Number((await c.query("SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0].n);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  const source = await startTestServer();
  try {
    owner = await signUpVerified(source);
    const api = client(source.url, owner.token);
    const vault = await api.post("/v1/vaults", { name: "backed-up" });
    expect(vault.status).toBe(201);
    vaultId = vault.body.id;
    for (let i = 0; i < 5; i++) {
      const value = `canary-secret-${i}-${crypto.randomUUID()}`;
      expect((await api.put(`/v1/vaults/${vaultId}/secrets/app/key${i}`, { value })).status).toBe(201);
      secrets.set(`app/key${i}`, value);
    }
    firstVersionValue = secrets.get("app/key0")!;
    const second = `canary-secret-0-v2-${crypto.randomUUID()}`;
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/app/key0`, { value: second })).status).toBe(201);
    secrets.set("app/key0", second);
    expect((await api.get(`/v1/vaults/${vaultId}/secrets/app/key1`)).status).toBe(200);
    // A signed checkpoint exists before the backup: after the restore it must still verify.
    expect((await api.get("/v1/audit/verify")).body).toMatchObject({ chain_valid: true, complete: true });
    const other = await signUpVerified(source);
    expect((await client(source.url, other.token).post("/v1/vaults", { name: "other-org" })).status).toBe(201);

    // Online: Talon keeps writing while the backup runs; the snapshot is of one moment all the same.
    backupFile = path.join(work, "talon.backup");
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) await api.put(`/v1/vaults/${vaultId}/secrets/during/k${i}`, { value: `during-${i}` });
    })();
    const backup = await runScript("backup", ["--out", backupFile], source);
    writing = false;
    await writer;
    expect(backup.stderr).toBe("");
    expect(backup.code).toBe(0);
    expect(backup.stdout).toMatch(/backup written: .*talon\.backup/);
    expect(backup.stdout).toContain('restoring it needs master keys v1 (talon-master-v1) from PKCS#11 token "talon"');
    manifest = (await openBackupFile(backupFile)).manifest;

    tokenCopy = path.join(work, "token-copy");
    cpSync(path.join(source.dataDir, "hsm", "tokens"), path.join(tokenCopy, "tokens"), { recursive: true });
    cpSync(path.join(source.dataDir, "hsm", "pin"), path.join(tokenCopy, "pin"));
    pin = readFileSync(path.join(tokenCopy, "pin"), "utf8").trim();
  } finally {
    await source.close();
  }
});

afterAll(async () => {
  for (const c of cleanups) await c();
  rmSync(work, { recursive: true, force: true });
});

describe("the backup file", () => {
  it("has a manifest with version, migration, master-key ids, token label, chain heads and checksums, and no key material", () => {
    const migrations = readdirSync(path.join(ROOT, "prisma", testDialect, "migrations")).filter((d) => /^\d+_/.test(d)).sort();
    expect(manifest).toMatchObject({
      format: "talon-backup",
      formatVersion: 1,
      talonVersion: TALON_VERSION,
      dialect: testDialect,
      database: { lastMigration: migrations.at(-1), migrations: migrations.length },
      keystore: { provider: "pkcs11", tokenLabel: "talon", masterKeys: [{ version: 1, label: "talon-master-v1" }] },
    });
    expect(manifest.keystore.masterKeys[0]!.vaults).toBe(manifest.counts.vaults);
    expect(manifest.counts.vaults).toBeGreaterThanOrEqual(2);
    const head = manifest.auditChains.find((h) => h.orgId === owner.orgId);
    expect(head?.seq).toBeGreaterThan(8);
    expect(head?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.parts).toEqual([expect.objectContaining({ name: testDialect === "sqlite" ? "database.sqlite.gz" : "database.pgdump", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
    expect(statSync(backupFile).mode & 0o777).toBe(0o600);

    const raw = readFileSync(backupFile);
    const manifestText = raw.subarray(0, raw.indexOf("\n", raw.indexOf("\n") + 1)).toString("utf8");
    expect(manifestText).not.toContain(pin);
    if (testDialect === "sqlite") {
      // The database inside holds ciphertext only: no secret value, no PIN.
      const db = gunzipSync(raw.subarray(raw.length - manifest.parts[0]!.bytes)).toString("latin1");
      expect(db).toContain("backed-up");
      for (const value of [...secrets.values(), firstVersionValue, pin]) expect(db).not.toContain(value);
    }
  });
});

describe("restore with the same HSM token", () => {
  it("reads every secret back and the audit chain verifies (incremental from the restored checkpoint, and full)", async () => {
    const target = await freshTarget(true);
    const restored = await runScript("restore", [backupFile], target);
    expect(restored.stderr).toBe("");
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain("audit chain heads match the manifest");

    const server = await startTestServer({ existing: target });
    try {
      const login = await client(server.url).post("/v1/auth/token", { email: owner.email, password: owner.password });
      expect(login.status).toBe(200);
      const api = client(server.url, login.body.access_token);
      for (const [p, value] of secrets) {
        const res = await api.get(`/v1/vaults/${vaultId}/secrets/${p}`);
        expect(res.status, p).toBe(200);
        expect(res.body.value).toBe(value);
      }
      const v1 = await api.get(`/v1/vaults/${vaultId}/secret-version/app/key0/1`);
      expect(v1.status).toBe(200);
      expect(v1.body.value).toBe(firstVersionValue);

      const head = manifest.auditChains.find((h) => h.orgId === owner.orgId)!;
      const atHead = await server.rt.db.auditEvent.findFirst({ where: { orgId: owner.orgId, seq: head.seq } });
      expect(atHead?.hash).toBe(head.hash);
      const incremental = await api.get("/v1/audit/verify");
      expect(incremental.body).toMatchObject({ chain_valid: true, complete: true, checkpoint: "valid" });
      const full = await api.get("/v1/audit/verify?full=true");
      expect(full.body).toMatchObject({ chain_valid: true, complete: true, mode: "full", checkpoint: "valid" });

      // The start-up check names a version the token lacks (here: a vault row claiming v9).
      await server.rt.db.vault.update({ where: { id: vaultId }, data: { masterKeyVersion: 9 } });
      await expect(assertMasterKeysPresent(server.rt.db, server.rt.keystore, server.rt.config)).rejects.toThrow(
        /^Master key v9 \(talon-master-v9\) is missing from PKCS#11 token "talon": this database has 1 vault key wrapped under it/,
      );
      await server.rt.db.vault.update({ where: { id: vaultId }, data: { masterKeyVersion: 1 } });
      await expect(assertMasterKeysPresent(server.rt.db, server.rt.keystore, server.rt.config)).resolves.toBeUndefined();

      // Never over existing data: the same target again is refused.
      const again = await runScript("restore", [backupFile], target);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/restore failed: .*(already exists|is not empty)/);
    } finally {
      await server.close();
    }
  });
});

describe("restore without the HSM token", () => {
  it("restores the database, but start-up refuses naming the missing master key", async () => {
    const target = await freshTarget(false);
    const restored = await runScript("restore", [backupFile], target);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain('before npm start: the keystore must hold master keys v1 (talon-master-v1) from PKCS#11 token "talon"');
    // startTestServer gives the data dir a brand-new token, as a fresh install would.
    await expect(startTestServer({ existing: target })).rejects.toThrow(/Master key v1 \(talon-master-v1\) in PKCS#11 token "talon" is not the key this database's \d+ vault keys are wrapped under/);
    rmSync(target.dataDir, { recursive: true, force: true });
  });
});

describe("a damaged backup", () => {
  const flip = (b: Buffer, at: number) => {
    b.writeUInt8(b.readUInt8(at) ^ 0x01, at);
    return b;
  };
  const damaged = (name: string, change: (b: Buffer) => Buffer) => {
    const file = path.join(work, name);
    writeFileSync(file, change(Buffer.from(readFileSync(backupFile))));
    return file;
  };

  it("is refused before anything is written: payload, manifest, truncation", async () => {
    const cases: [string, RegExp][] = [
      [damaged("payload.backup", (b) => flip(b, b.length - 50)), /part database\.\S+ does not match its checksum/],
      [damaged("manifest.backup", (b) => flip(b, b.indexOf('"talonVersion"') + 2)), /the manifest does not match its checksum/],
      [damaged("truncated.backup", (b) => b.subarray(0, b.length - 1)), /truncated or appended to/],
      [damaged("not-a-backup", () => Buffer.from("hello\n")), /is not a Talon backup/],
    ];
    for (const [file, why] of cases) {
      const target = await freshTarget(true);
      const res = await runScript("restore", [file], target);
      expect(res.code, file).toBe(1);
      expect(res.stderr, file).toMatch(why);
      expect(await tableCount(target.databaseUrl), file).toBe(0);
    }
    // Positive control: the undamaged file restores into the same kind of target.
    const target = await freshTarget(true);
    expect((await runScript("restore", [backupFile], target)).code).toBe(0);
    expect(await tableCount(target.databaseUrl)).toBeGreaterThan(0);
  });
});
