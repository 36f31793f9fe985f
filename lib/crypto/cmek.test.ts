import { createHash, randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import {
  base64ToBytes,
  bytesToBase64,
  CmekError,
  cmekKeyFileText,
  CMEK_MIN_BLOB_BYTES,
  decodeCmekKey,
  decryptCmekValue,
  encryptCmekValue,
  generateCmekKeyBytes,
  importCmekKey,
  importCmekKeyFile,
  inspectCmekBlob,
} from "./cmek";

const binding = { vaultId: "0b3d6f7e-6a51-4b8e-9d55-0c8f9a0e1a11", path: "prod/db/password" };

describe("CMEK blob", () => {
  test("round trip; fingerprint is the hex SHA-256 of the raw key; key id its first 8 bytes", async () => {
    const raw = generateCmekKeyBytes();
    const key = await importCmekKey(raw);
    expect(key.fingerprint).toBe(createHash("sha256").update(raw).digest("hex"));
    expect(key.keyId).toBe(key.fingerprint.slice(0, 16));
    const blob = await encryptCmekValue(key, binding, "hunter2 ✓");
    const bytes = Buffer.from(blob, "base64");
    expect(bytes[0]).toBe(0x02);
    expect(bytes.subarray(1, 9).toString("hex")).toBe(key.keyId);
    expect(bytes.length).toBe(CMEK_MIN_BLOB_BYTES + Buffer.byteLength("hunter2 ✓"));
    expect(await decryptCmekValue(key, binding, blob)).toBe("hunter2 ✓");
    // Fresh IV per encryption.
    expect(await encryptCmekValue(key, binding, "hunter2 ✓")).not.toBe(blob);
  });

  test("bound to vault and path: a moved blob fails to open (positive control above)", async () => {
    const key = await importCmekKey(generateCmekKeyBytes());
    const blob = await encryptCmekValue(key, binding, "v");
    await expect(decryptCmekValue(key, { ...binding, path: "prod/db/other" }, blob)).rejects.toThrow(CmekError);
    await expect(decryptCmekValue(key, { ...binding, vaultId: "1b3d6f7e-6a51-4b8e-9d55-0c8f9a0e1a11" }, blob)).rejects.toThrow(CmekError);
    expect(await decryptCmekValue(key, binding, blob)).toBe("v");
  });

  test("altered ciphertext, altered key id and another key all fail", async () => {
    const key = await importCmekKey(generateCmekKeyBytes());
    const other = await importCmekKey(generateCmekKeyBytes());
    const blob = Buffer.from(await encryptCmekValue(key, binding, "value"), "base64");
    const flipped = Buffer.from(blob);
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 20) ^ 1, flipped.length - 20);
    await expect(decryptCmekValue(key, binding, flipped.toString("base64"))).rejects.toThrow(/did not open/);
    // Relabelled with the other key's id: the header is authenticated, so even the right key refuses it.
    const relabelled = Buffer.from(blob);
    Buffer.from(other.keyId, "hex").copy(relabelled, 1);
    await expect(decryptCmekValue(other, binding, relabelled.toString("base64"))).rejects.toThrow(/did not open/);
    await expect(decryptCmekValue(other, binding, blob.toString("base64"))).rejects.toThrow(/another customer key/);
  });

  test("inspect: structure without a key", async () => {
    const key = await importCmekKey(generateCmekKeyBytes());
    const blob = await encryptCmekValue(key, binding, "");
    expect(inspectCmekBlob(blob)).toMatchObject({ ok: true, keyId: key.keyId });
    expect(inspectCmekBlob("plain text value")).toMatchObject({ ok: false, reason: expect.stringMatching(/base64/) });
    expect(inspectCmekBlob(Buffer.alloc(CMEK_MIN_BLOB_BYTES - 1, 2).toString("base64"))).toMatchObject({ ok: false, reason: expect.stringMatching(/too short/) });
    const v1 = Buffer.from(blob, "base64");
    v1[0] = 0x01;
    expect(inspectCmekBlob(v1.toString("base64"))).toMatchObject({ ok: false, reason: expect.stringMatching(/version/) });
    expect(inspectCmekBlob(`${blob}\n`).ok).toBe(false);
  });

  test("key files: base64 of exactly 32 bytes; the error never echoes the input", async () => {
    const raw = randomBytes(32);
    const text = cmekKeyFileText(raw);
    expect(text).toBe(`${raw.toString("base64")}\n`);
    expect(Buffer.from(decodeCmekKey(text))).toEqual(raw);
    expect((await importCmekKeyFile(text)).fingerprint).toBe(createHash("sha256").update(raw).digest("hex"));
    const short = randomBytes(31).toString("base64");
    expect(() => decodeCmekKey(short, "X-CMEK-Old-Key")).toThrow(/X-CMEK-Old-Key must be the base64 of a 32-byte key/);
    try {
      decodeCmekKey(short);
    } catch (e) {
      expect(String((e as Error).message)).not.toContain(short);
    }
    expect(() => decodeCmekKey("not base64!")).toThrow(CmekError);
  });

  test("base64 helpers are strict and canonical", () => {
    const b = randomBytes(100);
    expect(base64ToBytes(bytesToBase64(b))).toEqual(new Uint8Array(b));
    expect(base64ToBytes("QQ")).toBeNull();
    expect(base64ToBytes("QR==")).toBeNull();
    expect(base64ToBytes("QQ==")).toEqual(new Uint8Array([0x41]));
  });
});
