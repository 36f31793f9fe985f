import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeAad, openSecretVersion, sealSecretVersion } from "../../server/crypto/envelope";
import { KeystoreIntegrityError } from "../../server/keystore/types";

const key = randomBytes(32);
const aad = { vaultId: randomUUID(), secretId: randomUUID(), version: 3 };
const value = Buffer.from("sk-live-0123456789abcdef");

/** Sealed by the build before encodeAad wrote one buffer: key 32 × 0x07, vault v, secret s, version 3, "hello". */
const SEALED_BEFORE = "019351206b89c0f37a19ac107560ecf13e5a425c9cd6e4d1d79ca04728b5d2a8b117";

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

  it("encodes associated data in the stored format, byte for byte (every sealed blob depends on it)", () => {
    // "S" + 4-byte big-endian UTF-8 length + bytes for strings (the purpose first), "N" + 4-byte value for numbers.
    expect(encodeAad("p", ["é", 258, "", 0xffffffff]).toString("hex")).toBe(
      ["53", "00000001", "70", "53", "00000002", "c3a9", "4e", "00000102", "53", "00000000", "4e", "ffffffff"].join(""),
    );
    const purpose = Buffer.from("talon/secret-version/v1").toString("hex");
    expect(encodeAad("talon/secret-version/v1", ["v", "s", 3]).toString("hex")).toBe(`5300000017${purpose}530000000176530000000173${"4e00000003"}`);
    // A blob sealed by an earlier build (fixed key, AAD vault v / secret s / version 3) still opens.
    const key = Buffer.alloc(32, 7);
    const blob = Buffer.from(SEALED_BEFORE, "hex");
    expect(openSecretVersion(key, { vaultId: "v", secretId: "s", version: 3 }, blob).toString()).toBe("hello");
  });
});
