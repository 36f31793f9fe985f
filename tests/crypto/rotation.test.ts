import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Config, loadConfig } from "../../server/config";
import { openSecretVersion, sealSecretVersion } from "../../server/crypto/envelope";
import { rotateMasterKey } from "../../server/crypto/rotate";
import { VaultKeyService } from "../../server/crypto/vault-keys";
import { type Database, migrateDatabase, openDatabase } from "../../server/db";
import { openKeystore } from "../../server/keystore";
import { softHsmPaths, ensureSoftHsmToken } from "../../server/keystore/softhsm-setup";
import type { Keystore } from "../../server/keystore/types";

/**
 * Master-key rotation against a real SoftHSM token and a real database, with the rotation run as
 * `npm run keys:rotate` does (tsx scripts/keys-rotate.ts, another process) while this process keeps
 * serving reads with its own keystore and cache, like a running server.
 */
const run = promisify(execFile);
const usePostgres = process.env.TALON_TEST_DB === "postgres";

let dataDir: string;
let config: Config;
let database: Database;
let ks: Keystore;
let dropDb: (() => Promise<void>) | undefined;
const orgId = randomUUID();
const vaults: { id: string; key: Buffer; secretId: string; value: Buffer }[] = [];

async function createPostgresDatabase(): Promise<string> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) throw new Error("TALON_TEST_DB=postgres needs TEST_DATABASE_URL");
  const name = `talon_rot_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  dropDb = async () => {
    const c = new pg.Client({ connectionString: base });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  };
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

async function insertVault(svc: VaultKeyService) {
  const id = randomUUID();
  const { key, wrappedKey, masterKeyVersion } = await svc.newVaultKey(id);
  const secretId = randomUUID();
  const value = randomBytes(24);
  const ciphertext = sealSecretVersion(key, { vaultId: id, secretId, version: 1 }, value);
  // HSM work above, then one transaction for the rows.
  await database.db.$transaction([
    database.db.vault.create({
      data: { id, orgId, name: `v-${id}`, createdBy: "test", createdByType: "user", wrappedKey: new Uint8Array(wrappedKey), masterKeyVersion },
    }),
    database.db.secret.create({ data: { id: secretId, vaultId: id, path: "db/password", currentVersion: 1 } }),
    database.db.secretVersion.create({
      data: { id: randomUUID(), secretId, version: 1, type: "string", ciphertext: new Uint8Array(ciphertext), createdBy: "test" },
    }),
  ]);
  return { id, key, secretId, value, masterKeyVersion };
}

/** What a secret read does: the vault row, its key (cache or HSM), then the version's ciphertext. */
async function readSecret(svc: VaultKeyService, v: (typeof vaults)[number]) {
  const row = await database.db.vault.findUniqueOrThrow({ where: { id: v.id } });
  const key = await svc.vaultKey(row);
  const sv = await database.db.secretVersion.findFirstOrThrow({ where: { secretId: v.secretId, version: 1 } });
  return openSecretVersion(key, { vaultId: v.id, secretId: v.secretId, version: 1 }, sv.ciphertext);
}

async function keysRotate(...args: string[]) {
  const env = { ...process.env, TALON_DATA_DIR: dataDir, DATABASE_URL: config.databaseUrl, SOFTHSM2_CONF: "", TALON_LOG_LEVEL: "error" };
  return run(process.execPath, [path.resolve("node_modules/tsx/dist/cli.mjs"), "scripts/keys-rotate.ts", ...args], { env, cwd: path.resolve(".") });
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "talon-rot-"));
  ensureSoftHsmToken(dataDir, "talon");
  const databaseUrl = usePostgres ? await createPostgresDatabase() : `file:${path.join(dataDir, "talon.db")}`;
  config = loadConfig({ NODE_ENV: "test", TALON_DATA_DIR: dataDir, DATABASE_URL: databaseUrl });
  await migrateDatabase(databaseUrl);
  database = await openDatabase(databaseUrl);
  ks = await openKeystore(config);
  await database.db.org.create({ data: { id: orgId, name: "rotation" } });
  const svc = new VaultKeyService(ks, config.vaultKeyCache);
  for (let i = 0; i < 7; i++) vaults.push(await insertVault(svc));
});

afterAll(async () => {
  await database?.close();
  await ks?.close();
  await dropDb?.();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("master key rotation", () => {
  it("rewraps every vault key under v2 in another process while reads keep working", async () => {
    const server = new VaultKeyService(ks, config.vaultKeyCache);
    expect((await readSecret(server, vaults[0]!)).equals(vaults[0]!.value)).toBe(true); // cached from here on
    const before = await database.db.vault.findMany({ orderBy: { id: "asc" } });

    const { stdout, stderr } = await keysRotate("--batch-size", "3");
    expect(stdout).toContain("master key: v1 -> v2 (pkcs11)");
    expect(stdout).toContain(`vault keys rewrapped: ${vaults.length}; skipped (changed concurrently): 0`);
    expect(stdout).toContain("vaults still on an older version: 0");
    const pin = readFileSync(softHsmPaths(dataDir).pinFile, "utf8").trim();
    for (const secretish of [pin, ...vaults.map((v) => v.key.toString("base64")), ...vaults.map((v) => v.key.toString("hex"))]) {
      expect(stdout + stderr).not.toContain(secretish);
    }

    const after = await database.db.vault.findMany({ orderBy: { id: "asc" } });
    expect(after.every((v) => v.masterKeyVersion === 2)).toBe(true);
    after.forEach((v, i) => expect(Buffer.from(v.wrappedKey).equals(Buffer.from(before[i]!.wrappedKey))).toBe(false));
    expect((await database.db.keystoreState.findUnique({ where: { id: 1 } }))?.masterKeyVersion).toBe(2);
    // Secret ciphertexts were not touched.
    expect(await database.db.secretVersion.count()).toBe(vaults.length);

    // The running "server": its cached key still answers, and uncached vaults unwrap under v2, a key
    // another process created (found by searching the token again).
    for (const v of vaults) expect((await readSecret(server, v)).equals(v.value)).toBe(true);
    const fresh = new VaultKeyService(ks, { ttlSeconds: 0, maxEntries: 1 });
    for (const v of vaults) expect((await readSecret(fresh, v)).equals(v.value)).toBe(true);
    expect(await ks.masterKeyVersions()).toEqual([1, 2]);

    // New vaults use v2, both in the process that saw a v2 row and in a new one.
    const made = [await insertVault(server), await insertVault(new VaultKeyService(ks, config.vaultKeyCache))];
    expect(made.map((m) => m.masterKeyVersion)).toEqual([2, 2]);
    vaults.push(...made);
  });

  it("never applies a rewrap twice when two rotations race", async () => {
    // Each run's first unwrap waits until both runs have listed the vaults: both see every row at v2.
    let arrived = 0;
    let open!: () => void;
    const bothListed = new Promise<void>((r) => (open = r));
    const gated = (): Keystore => {
      let first = true;
      const unwrap: Keystore["unwrap"] = async (...args) => {
        if (first && ++arrived === 2) open();
        first = false;
        await bothListed;
        return ks.unwrap(...args);
      };
      return new Proxy(ks, { get: (t, p) => (p === "unwrap" ? unwrap : Reflect.get(t, p, t)) });
    };
    const [a, b] = await Promise.all([rotateMasterKey(database.db, gated()), rotateMasterKey(database.db, gated())]);
    expect(a.toVersion).toBe(3);
    expect(b.toVersion).toBe(3);
    expect(a.vaultsRewrapped + b.vaultsRewrapped).toBe(vaults.length);
    expect(a.vaultsRewrapped + a.vaultsSkipped).toBe(vaults.length);
    expect(b.vaultsRewrapped + b.vaultsSkipped).toBe(vaults.length);
    expect(await database.db.vault.count({ where: { masterKeyVersion: 3 } })).toBe(vaults.length);
    const fresh = new VaultKeyService(ks, { ttlSeconds: 0, maxEntries: 1 });
    for (const v of vaults) expect((await readSecret(fresh, v)).equals(v.value)).toBe(true);
  });

  it("--destroy-old removes the old master keys once no vault uses them", async () => {
    const server = new VaultKeyService(ks, config.vaultKeyCache);
    await readSecret(server, vaults[1]!);
    const oldRow = await database.db.vault.findUniqueOrThrow({ where: { id: vaults[1]!.id } });

    const { stdout } = await keysRotate("--destroy-old", "--settle-seconds", "0");
    expect(stdout).toContain("master key: v3 -> v4 (pkcs11)");
    expect(stdout).toContain("destroyed master keys: v1, v2, v3");
    expect(await ks.masterKeyVersions()).toEqual([4]);
    expect(await database.db.vault.count({ where: { masterKeyVersion: { lt: 4 } } })).toBe(0);
    expect((await database.db.keystoreState.findUnique({ where: { id: 1 } }))?.masterKeyVersion).toBe(4);

    // A cached key keeps serving; every vault opens under v4; the old wrapping is dead for good.
    expect((await readSecret(server, vaults[1]!)).equals(vaults[1]!.value)).toBe(true);
    const fresh = new VaultKeyService(ks, { ttlSeconds: 0, maxEntries: 1 });
    for (const v of vaults) expect((await readSecret(fresh, v)).equals(v.value)).toBe(true);
    await expect(fresh.vaultKey(oldRow)).rejects.toThrow("Master key v3 is not in the keystore");
    expect((await ks.health()).masterKeyVersion).toBe(4);
  });

  it("keeps the old keys while a vault's key cannot be rewrapped, and destroys them once it is gone", async () => {
    const bad = randomUUID();
    await database.db.vault.create({
      data: { id: bad, orgId, name: "broken", createdBy: "t", createdByType: "user", wrappedKey: new Uint8Array(Buffer.concat([Buffer.of(1), randomBytes(60)])), masterKeyVersion: 4 },
    });
    const lines: string[] = [];
    const first = await rotateMasterKey(database.db, ks, { destroyOld: true, settleMs: 0, onProgress: (l) => lines.push(l) });
    expect(first).toMatchObject({ fromVersion: 4, toVersion: 5, vaultsRewrapped: vaults.length, failedVaultIds: [bad], vaultsOnOldVersions: 1, destroyedVersions: [] });
    expect(lines.some((l) => l.includes(bad))).toBe(true);
    expect(await ks.masterKeyVersions()).toEqual([4, 5]);
    const fresh = new VaultKeyService(ks, { ttlSeconds: 0, maxEntries: 1 });
    for (const v of vaults) expect((await readSecret(fresh, v)).equals(v.value)).toBe(true);

    await database.db.vault.delete({ where: { id: bad } });
    const second = await rotateMasterKey(database.db, ks, { destroyOld: true, settleMs: 0 });
    expect(second).toMatchObject({ toVersion: 6, vaultsOnOldVersions: 0, failedVaultIds: [], destroyedVersions: [4, 5] });
    for (const v of vaults) expect((await readSecret(fresh, v)).equals(v.value)).toBe(true);
  });
});
