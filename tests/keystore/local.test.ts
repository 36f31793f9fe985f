import { createPublicKey, randomBytes, verify } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { calculateJwkThumbprint } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Config, loadConfig } from "../../server/config";
import { openKeystore } from "../../server/keystore";
import { type Keystore, KeystoreFatalError, KeystoreIntegrityError } from "../../server/keystore/types";

let dataDir: string;
let config: Config;
let ks: Keystore;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "talon-local-"));
  config = loadConfig({ NODE_ENV: "test", TALON_DATA_DIR: dataDir, TALON_KEYSTORE: "local" });
  ks = await openKeystore(config);
});

afterAll(async () => {
  await ks?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const keyFile = () => (config.keystore.provider === "local" ? config.keystore.keyFile : "");

describe("local keystore", () => {
  it("says it is local, never an HSM", async () => {
    expect(ks.provider).toBe("local");
    expect(await ks.health()).toEqual({ status: "ok", provider: "local", connected: true, masterKeyVersion: 1 });
    await expect(ks.selfTest()).resolves.toBeUndefined();
  });

  it("keeps its keys in a 0600 file it created", () => {
    expect(statSync(keyFile()).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(keyFile(), "utf8")) as { masterKeys: Record<string, string> };
    expect(Object.keys(file.masterKeys)).toEqual(["1"]);
  });

  it("wraps in the same blob format and refuses tampering", async () => {
    const key = randomBytes(32);
    const aad = Buffer.from("vault-a");
    const blob = await ks.wrap(key, aad, 1);
    expect(blob[0]).toBe(0x01);
    expect(blob.length).toBe(1 + 12 + 32 + 16);
    expect((await ks.unwrap(blob, aad, 1)).equals(key)).toBe(true);
    for (const at of [0, 5, 20, blob.length - 1]) {
      const bad = Buffer.from(blob);
      bad[at]! ^= 0x80;
      await expect(ks.unwrap(bad, aad, 1)).rejects.toBeInstanceOf(KeystoreIntegrityError);
    }
    await expect(ks.unwrap(blob, Buffer.from("vault-b"), 1)).rejects.toBeInstanceOf(KeystoreIntegrityError);
  });

  it("signs with Ed25519 verifiable with its JWK", async () => {
    const jwk = await ks.signingJwk();
    expect(jwk.kid).toBe(await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x: jwk.x }));
    const data = randomBytes(40);
    const pub = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk.x }, format: "jwk" });
    expect(verify(null, data, pub, await ks.sign(data))).toBe(true);
  });

  it("sees versions another process added, and survives a reopen", async () => {
    const aad = Buffer.from("v");
    const other = await openKeystore(config);
    await other.ensureMasterKey(2);
    const blob = await other.wrap(Buffer.alloc(32, 4), aad, 2);
    expect(await ks.currentMasterKeyVersion()).toBe(2);
    expect((await ks.unwrap(blob, aad, 2)).equals(Buffer.alloc(32, 4))).toBe(true);
    expect((await other.signingJwk()).kid).toBe((await ks.signingJwk()).kid);
    await expect(other.destroyMasterKey(2)).rejects.toThrow(/current/);
    await other.destroyMasterKey(1);
    expect(await ks.masterKeyVersions()).toEqual([2]);
    await expect(ks.unwrap(await other.wrap(Buffer.alloc(32), aad, 2), aad, 1)).rejects.toThrow("Master key v1 is not in the keystore");
    await other.close();
  });

  it("refuses a key file other users can read", async () => {
    chmodSync(keyFile(), 0o644);
    try {
      await expect(openKeystore(config)).rejects.toBeInstanceOf(KeystoreFatalError);
    } finally {
      chmodSync(keyFile(), 0o600);
    }
    await expect(openKeystore(config).then((k) => k.close())).resolves.toBeUndefined();
  });
});
