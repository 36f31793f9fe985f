import { createPublicKey, randomBytes, verify } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { calculateJwkThumbprint, importJWK, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config";
import { openKeystore } from "../../server/keystore";
import { acquireLibrary, findObjects, findTokenSlot, pkcs11js } from "../../server/keystore/pkcs11-library";
import { ensureSoftHsmToken } from "../../server/keystore/softhsm-setup";
import { type Keystore, KeystoreIntegrityError } from "../../server/keystore/types";

let dataDir: string;
let ks: Keystore;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "talon-ks-"));
  expect(ensureSoftHsmToken(dataDir, "talon")).toBe(true);
  expect(ensureSoftHsmToken(dataDir, "talon")).toBe(false);
  ks = await openKeystore(loadConfig({ NODE_ENV: "test", TALON_DATA_DIR: dataDir }));
});

afterAll(async () => {
  await ks?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Reads token attributes the way an auditor would: through our own PKCS#11 session. */
function tokenAttributes(label: string, cls: number, types: number[]) {
  const lib = acquireLibrary("/usr/lib/softhsm/libsofthsm2.so");
  const { p11 } = lib;
  const s = p11.C_OpenSession(findTokenSlot(p11, "talon")!, pkcs11js.CKF_SERIAL_SESSION);
  try {
    const [h] = findObjects(p11, s, [
      { type: pkcs11js.CKA_CLASS, value: cls },
      { type: pkcs11js.CKA_LABEL, value: label },
    ]);
    expect(h).toBeDefined();
    const attrs = p11.C_GetAttributeValue(s, h!, types.map((type) => ({ type })));
    let value: unknown;
    try {
      p11.C_GetAttributeValue(s, h!, [{ type: pkcs11js.CKA_VALUE }]);
      value = "readable";
    } catch (e) {
      value = (e as { code?: number }).code;
    }
    return { bools: attrs.map((a) => a.value[0]), value };
  } finally {
    p11.C_CloseSession(s);
    lib.release();
  }
}

describe("pkcs11 keystore (SoftHSM2)", () => {
  it("opens with master key v1 and reports itself healthy", async () => {
    expect(ks.provider).toBe("pkcs11");
    expect(await ks.currentMasterKeyVersion()).toBe(1);
    await expect(ks.selfTest()).resolves.toBeUndefined();
    expect(await ks.health()).toEqual({ status: "ok", provider: "pkcs11", connected: true, masterKeyVersion: 1 });
  });

  it("wraps and unwraps inside the token, in the documented blob format", async () => {
    const key = randomBytes(32);
    const aad = Buffer.from("vault-1");
    const blob = await ks.wrap(key, aad, 1);
    expect(blob.length).toBe(1 + 12 + 32 + 16);
    expect(blob[0]).toBe(0x01);
    expect(blob.subarray(13, 45).equals(key)).toBe(false);
    expect((await ks.unwrap(blob, aad, 1)).equals(key)).toBe(true);
    // A fresh IV each time.
    expect((await ks.wrap(key, aad, 1)).equals(blob)).toBe(false);
  });

  it("refuses a blob whose format byte, IV, ciphertext, tag or associated data changed", async () => {
    const aad = Buffer.from("vault-1");
    const blob = await ks.wrap(randomBytes(32), aad, 1);
    for (const at of [0, 1, 12, 13, 44, 45, blob.length - 1]) {
      const bad = Buffer.from(blob);
      bad[at]! ^= 0x01;
      await expect(ks.unwrap(bad, aad, 1), `byte ${at}`).rejects.toBeInstanceOf(KeystoreIntegrityError);
    }
    await expect(ks.unwrap(blob, Buffer.from("vault-2"), 1)).rejects.toBeInstanceOf(KeystoreIntegrityError);
    await expect(ks.unwrap(blob.subarray(0, 20), aad, 1)).rejects.toBeInstanceOf(KeystoreIntegrityError);
    await expect(ks.unwrap(blob, aad, 1)).resolves.toHaveLength(32);
  });

  it("generates keys that cannot leave the token", () => {
    const want = [pkcs11js.CKA_TOKEN, pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE, pkcs11js.CKA_ALWAYS_SENSITIVE, pkcs11js.CKA_NEVER_EXTRACTABLE];
    const master = tokenAttributes("talon-master-v1", pkcs11js.CKO_SECRET_KEY, want);
    expect(master.bools).toEqual([1, 1, 0, 1, 1]);
    expect(master.value).toBe(pkcs11js.CKR_ATTRIBUTE_SENSITIVE);
    const signing = tokenAttributes("talon-jwt-signing", pkcs11js.CKO_PRIVATE_KEY, want);
    expect(signing.bools).toEqual([1, 1, 0, 1, 1]);
    expect(signing.value).toBe(pkcs11js.CKR_ATTRIBUTE_SENSITIVE);
  });

  it("signs with Ed25519 in the token; node:crypto and jose verify with the published JWK", async () => {
    const jwk = await ks.signingJwk();
    expect(jwk).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(jwk.kid).toBe(await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x: jwk.x }));
    const data = randomBytes(100);
    const sig = await ks.sign(data);
    const pub = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk.x }, format: "jwk" });
    expect(verify(null, data, pub, sig)).toBe(true);
    expect(verify(null, Buffer.concat([data, Buffer.of(0)]), pub, sig)).toBe(false);

    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const input = `${b64({ alg: "EdDSA", kid: jwk.kid })}.${b64({ sub: "agent:x", exp: Math.floor(Date.now() / 1000) + 60 })}`;
    const jwt = `${input}.${(await ks.sign(Buffer.from(input))).toString("base64url")}`;
    const { payload } = await jwtVerify(jwt, await importJWK(jwk, "EdDSA"));
    expect(payload.sub).toBe("agent:x");
    // The same key on every call (it was generated once).
    expect((await ks.signingJwk()).kid).toBe(jwk.kid);
  });

  it("serves many operations in flight through its session pool", async () => {
    const aad = Buffer.from("pool");
    const keys = Array.from({ length: 64 }, () => randomBytes(32));
    const blobs = await Promise.all(keys.map((k) => ks.wrap(k, aad, 1)));
    const back = await Promise.all(blobs.map((b) => ks.unwrap(b, aad, 1)));
    expect(back.every((b, i) => b.equals(keys[i]!))).toBe(true);
    const sigs = await Promise.all(keys.map((k) => ks.sign(k)));
    expect(sigs.every((s) => s.length === 64)).toBe(true);
  });

  it("adds master key versions, keeps old ones usable, and destroys only non-current ones", async () => {
    const aad = Buffer.from("rot");
    const old = await ks.wrap(Buffer.alloc(32, 9), aad, 1);
    await Promise.all([ks.ensureMasterKey(2), ks.ensureMasterKey(2)]);
    expect(await ks.masterKeyVersions()).toEqual([1, 2]);
    expect(await ks.currentMasterKeyVersion()).toBe(2);
    const v2 = await ks.wrap(Buffer.alloc(32, 9), aad, 2);
    await expect(ks.unwrap(v2, aad, 1)).rejects.toBeInstanceOf(KeystoreIntegrityError);
    expect((await ks.unwrap(old, aad, 1)).equals(Buffer.alloc(32, 9))).toBe(true);
    await expect(ks.destroyMasterKey(2)).rejects.toThrow(/current/);
    await ks.destroyMasterKey(1);
    expect(await ks.masterKeyVersions()).toEqual([2]);
    await expect(ks.unwrap(old, aad, 1)).rejects.toThrow("Master key v1 is not in the keystore");
    expect((await ks.unwrap(v2, aad, 2)).equals(Buffer.alloc(32, 9))).toBe(true);
    expect((await ks.health()).status).toBe("ok");
  });

  it("reopens on the same token with the same keys", async () => {
    const aad = Buffer.from("reopen");
    const blob = await ks.wrap(Buffer.alloc(32, 3), aad, 2);
    const kid = (await ks.signingJwk()).kid;
    const again = await openKeystore(loadConfig({ NODE_ENV: "test", TALON_DATA_DIR: dataDir }));
    try {
      expect((await again.unwrap(blob, aad, 2)).equals(Buffer.alloc(32, 3))).toBe(true);
      expect((await again.signingJwk()).kid).toBe(kid);
    } finally {
      await again.close();
    }
    // Closing one instance leaves the other's sessions and login intact.
    expect((await ks.unwrap(blob, aad, 2)).equals(Buffer.alloc(32, 3))).toBe(true);
  });
});
