import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { getAddress, type Hex, keccak256, recoverAddress, toHex } from "viem";
import { publicKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config";
import { finishHsmSignature } from "../../server/intents/signing";
import { openKeystore } from "../../server/keystore";
import { acquireLibrary, findObjects, findTokenSlot, pkcs11js } from "../../server/keystore/pkcs11-library";
import { ensureSoftHsmToken } from "../../server/keystore/softhsm-setup";
import type { Keystore } from "../../server/keystore/types";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

let dataDir: string;
let ks: Keystore;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "talon-k1-"));
  ensureSoftHsmToken(dataDir, "talon");
  ks = await openKeystore(loadConfig({ NODE_ENV: "test", TALON_DATA_DIR: dataDir }));
});
afterAll(async () => {
  await ks?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The private key object as an auditor sees it through its own PKCS#11 session. */
function privateKeyObject(keyRef: string) {
  const lib = acquireLibrary("/usr/lib/softhsm/libsofthsm2.so");
  const { p11 } = lib;
  const s = p11.C_OpenSession(findTokenSlot(p11, "talon")!, pkcs11js.CKF_SERIAL_SESSION);
  try {
    const handles = findObjects(p11, s, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_ID, value: Buffer.from(keyRef, "hex") },
    ]);
    if (!handles.length) return null;
    const [sensitive, extractable, alwaysSensitive, neverExtractable] = p11
      .C_GetAttributeValue(s, handles[0]!, [{ type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }, { type: pkcs11js.CKA_ALWAYS_SENSITIVE }, { type: pkcs11js.CKA_NEVER_EXTRACTABLE }])
      .map((a) => a.value[0]);
    let value: unknown = "readable";
    try {
      p11.C_GetAttributeValue(s, handles[0]!, [{ type: pkcs11js.CKA_VALUE }]);
    } catch (e) {
      value = (e as { code?: number }).code;
    }
    return { sensitive, extractable, alwaysSensitive, neverExtractable, value };
  } finally {
    p11.C_CloseSession(s);
    lib.release();
  }
}

describe("secp256k1 keys in the PKCS#11 token (SoftHSM2)", () => {
  it("generates a pair whose private half is sensitive, non-extractable, and whose CKA_VALUE is refused", async () => {
    const { keyRef, publicKey } = await ks.secp256k1!.generate();
    expect(publicKey).toHaveLength(65);
    expect(publicKey[0]).toBe(0x04);
    expect(privateKeyObject(keyRef)).toEqual({ sensitive: 1, extractable: 0, alwaysSensitive: 1, neverExtractable: 1, value: pkcs11js.CKR_ATTRIBUTE_SENSITIVE });
    expect((await ks.secp256k1!.publicKey(keyRef))!.equals(publicKey)).toBe(true);
  });

  it("signs keccak digests with CKM_ECDSA; low-s and the recovery id make an Ethereum signature that recovers to the key's address", async () => {
    const { keyRef, publicKey } = await ks.secp256k1!.generate();
    const address = getAddress(publicKeyToAddress(toHex(publicKey)));
    for (let i = 0; i < 12; i++) {
      const digest = keccak256(toHex(`message ${i}`));
      const raw = await ks.secp256k1!.sign(keyRef, Buffer.from(digest.slice(2), "hex"));
      expect(raw).toHaveLength(64);
      const sig = await finishHsmSignature(raw, digest, address);
      expect(BigInt(sig.s)).toBeLessThanOrEqual(N / 2n);
      expect(getAddress(await recoverAddress({ hash: digest, signature: sig }))).toBe(address);
      // Control: the other recovery id recovers some other address.
      expect(getAddress(await recoverAddress({ hash: digest, signature: { ...sig, yParity: sig.yParity === 0 ? 1 : 0 } }))).not.toBe(address);
    }
  });

  it("refuses a signature that belongs to another key, and destroys both halves", async () => {
    const a = await ks.secp256k1!.generate();
    const b = await ks.secp256k1!.generate();
    const digest = keccak256("0x1234") as Hex;
    const raw = await ks.secp256k1!.sign(a.keyRef, Buffer.from(digest.slice(2), "hex"));
    await expect(finishHsmSignature(raw, digest, getAddress(publicKeyToAddress(toHex(b.publicKey))))).rejects.toThrow(/does not recover/);
    expect(await ks.secp256k1!.destroy(a.keyRef)).toBe(true);
    expect(await ks.secp256k1!.publicKey(a.keyRef)).toBeNull();
    expect(privateKeyObject(a.keyRef)).toBeNull();
    await expect(ks.secp256k1!.sign(a.keyRef, Buffer.alloc(32))).rejects.toThrow(/not in the token/);
    expect(await ks.secp256k1!.destroy(a.keyRef)).toBe(false);
    expect(await ks.secp256k1!.publicKey(b.keyRef)).not.toBeNull();
  });

  it("is absent on the local software keystore (HSM-native keys need an HSM)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "talon-k1-local-"));
    const local = await openKeystore(loadConfig({ NODE_ENV: "test", TALON_DATA_DIR: dir, TALON_KEYSTORE: "local" }));
    try {
      expect(local.secp256k1).toBeUndefined();
    } finally {
      await local.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
