import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeAad, openSecretVersion, sealSecretVersion } from "../../server/crypto/envelope";
import { KeystoreIntegrityError } from "../../server/keystore/types";

const key = randomBytes(32);
const aad = { vaultId: randomUUID(), secretId: randomUUID(), version: 3 };
const value = Buffer.from("sk-live-0123456789abcdef");

describe("secret version envelope", () => {
  it("seals as [0x01][12-byte IV][ciphertext][16-byte tag] and opens again", () => {
    const blob = sealSecretVersion(key, aad, value);
    expect(blob[0]).toBe(0x01);
    expect(blob.length).toBe(1 + 12 + value.length + 16);
    expect(blob.includes(value)).toBe(false);
    expect(openSecretVersion(key, aad, blob).equals(value)).toBe(true);
    expect(openSecretVersion(key, aad, new Uint8Array(blob)).equals(value)).toBe(true);
    expect(sealSecretVersion(key, aad, value).equals(blob)).toBe(false);
    expect(openSecretVersion(key, aad, sealSecretVersion(key, aad, Buffer.alloc(0)))).toHaveLength(0);
  });

  it("fails to open under another vault, secret or version", () => {
    const blob = sealSecretVersion(key, aad, value);
    for (const other of [
      { ...aad, vaultId: randomUUID() },
      { ...aad, secretId: randomUUID() },
      { ...aad, version: 4 },
      { vaultId: aad.secretId, secretId: aad.vaultId, version: 3 },
    ]) {
      expect(() => openSecretVersion(key, other, blob)).toThrow(KeystoreIntegrityError);
    }
  });

  it("fails on any altered byte, a wrong key, an unknown format or a short blob", () => {
    const blob = sealSecretVersion(key, aad, value);
    for (let at = 0; at < blob.length; at++) {
      const bad = Buffer.from(blob);
      bad[at]! ^= 0x01;
      expect(() => openSecretVersion(key, aad, bad), `byte ${at}`).toThrow(KeystoreIntegrityError);
    }
    expect(() => openSecretVersion(randomBytes(32), aad, blob)).toThrow(KeystoreIntegrityError);
    expect(() => openSecretVersion(key, aad, blob.subarray(0, 28))).toThrow(KeystoreIntegrityError);
    expect(() => sealSecretVersion(randomBytes(16), aad, value)).toThrow(RangeError);
  });

  it("encodes associated data without ambiguity", () => {
    const distinct = [
      encodeAad("p", ["a|b", "c"]),
      encodeAad("p", ["a", "b|c"]),
      encodeAad("p", ["ab", "c"]),
      encodeAad("p", ["a", "bc"]),
      encodeAad("p", ["1"]),
      encodeAad("p", [1]),
      encodeAad("q", ["a", "bc"]),
    ].map((b) => b.toString("hex"));
    expect(new Set(distinct).size).toBe(distinct.length);
    expect(encodeAad("p", ["a", 1]).equals(encodeAad("p", ["a", 1]))).toBe(true);
    expect(() => encodeAad("p", [-1])).toThrow(RangeError);
  });
});
