import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { KeystoreIntegrityError } from "../keystore/types";
import type { SecretAad } from "./types";

/**
 * Secret versions are sealed in process with AES-256-GCM under their vault's data key:
 * `[format 0x01][12-byte IV][ciphertext][16-byte tag]`. The associated data names the row the blob
 * belongs to, so a ciphertext copied to another vault, secret or version fails to open.
 */
const FORMAT = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Unambiguous associated data: a purpose string, then each field as a 4-byte big-endian length and
 * its UTF-8 bytes (numbers as 4-byte unsigned integers), so no two field lists encode alike.
 */
export function encodeAad(purpose: string, fields: (string | number)[]): Buffer {
  let size = 5 + Buffer.byteLength(purpose, "utf8");
  for (const f of fields) size += typeof f === "number" ? 5 : 5 + Buffer.byteLength(f, "utf8");
  // One buffer, written field by field: a secret's read builds one, so no part gets a buffer of its own.
  const out = Buffer.allocUnsafe(size);
  let at = writeString(out, 0, purpose);
  for (const f of fields) {
    if (typeof f === "number") {
      if (!Number.isInteger(f) || f < 0 || f > 0xffffffff) throw new RangeError("AAD numbers are 32-bit unsigned integers");
      out[at] = 0x4e; // "N": a number can never be read as a string field of the same bytes.
      at = out.writeUInt32BE(f, at + 1);
    } else {
      at = writeString(out, at, f);
    }
  }
  return out;
}

function writeString(out: Buffer, at: number, s: string): number {
  const written = out.write(s, at + 5, "utf8");
  out[at] = 0x53; // "S"
  out.writeUInt32BE(written, at + 1);
  return at + 5 + written;
}

export const secretAad = (aad: SecretAad) => encodeAad("talon/secret-version/v1", [aad.vaultId, aad.secretId, aad.version]);

/**
 * IVs are cut from a pool of fresh randomness, refilled with one randomBytes call per 4 KiB (341 IVs)
 * instead of one call per version. Every IV is random and taken once: the offset only moves forward,
 * and an exhausted pool is replaced by a new one, never reread.
 */
const IV_POOL_BYTES = 4096;
let ivPool = Buffer.alloc(0);
let ivOffset = 0;

function nextIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    ivPool = randomBytes(IV_POOL_BYTES);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

function checkKey(vaultKey: Buffer) {
  if (vaultKey.length !== 32) throw new RangeError("A vault key is 32 bytes");
}

export function sealSecretVersion(vaultKey: Buffer, aad: SecretAad, plaintext: Buffer): Buffer {
  checkKey(vaultKey);
  const iv = nextIv();
  const c = createCipheriv("aes-256-gcm", vaultKey, iv).setAAD(secretAad(aad));
  return Buffer.concat([Buffer.of(FORMAT), iv, c.update(plaintext), c.final(), c.getAuthTag()]);
}

/** Throws KeystoreIntegrityError when the blob was altered or belongs to another row. */
export function openSecretVersion(vaultKey: Buffer, aad: SecretAad, blob: Uint8Array): Buffer {
  checkKey(vaultKey);
  const b = Buffer.isBuffer(blob) ? blob : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (b.length < 1 + IV_BYTES + TAG_BYTES || b[0] !== FORMAT) throw new KeystoreIntegrityError();
  try {
    const d = createDecipheriv("aes-256-gcm", vaultKey, b.subarray(1, 1 + IV_BYTES), { authTagLength: TAG_BYTES });
    d.setAAD(secretAad(aad)).setAuthTag(b.subarray(b.length - TAG_BYTES));
    return Buffer.concat([d.update(b.subarray(1 + IV_BYTES, b.length - TAG_BYTES)), d.final()]);
  } catch {
    throw new KeystoreIntegrityError();
  }
}
