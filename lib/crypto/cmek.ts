/**
 * Customer-managed keys (CMEK): the one implementation of the client-side blob, shared by the
 * dashboard (browser), the SDK, the CLI, the MCP stdio server and the server's rotation job. WebCrypto
 * only (`globalThis.crypto`, in every browser and in Node 20+), so it runs the same everywhere.
 *
 * Blob (docs/cmek.md), standard base64 of:
 *   0x02 | key id (8 bytes) | IV (12 bytes) | ciphertext | GCM tag (16 bytes)
 * AES-256-GCM; the key id is the first 8 bytes of the key's SHA-256 fingerprint, so the server (which
 * never holds the key) can tell which key a blob is under and refuse one that is not the vault's. The
 * associated data binds the vault id, the secret path and the header, so a blob moved to another
 * path or vault, or relabelled with another key id, fails to open.
 */
export const CMEK_BLOB_VERSION = 0x02;
export const CMEK_KEY_BYTES = 32;
export const CMEK_KEY_ID_BYTES = 8;
export const CMEK_IV_BYTES = 12;
export const CMEK_TAG_BYTES = 16;
const HEADER_BYTES = 1 + CMEK_KEY_ID_BYTES;
/** The smallest blob: an empty plaintext. */
export const CMEK_MIN_BLOB_BYTES = HEADER_BYTES + CMEK_IV_BYTES + CMEK_TAG_BYTES;
const AAD_PURPOSE = "talon-cmek/v2";

/** Something about a key, a key file or a blob is wrong. Messages never contain key material. */
export class CmekError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CmekError";
  }
}

export type CmekKey = {
  /** SHA-256 of the 32 raw key bytes, lowercase hex (64 characters). */
  fingerprint: string;
  /** The first 16 hex characters of the fingerprint: the key id every blob under this key carries. */
  keyId: string;
  cryptoKey: CryptoKey;
};

/** Where a value lives: the associated data every blob is bound to. */
export type CmekBinding = { vaultId: string; path: string };

const subtle = () => {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new CmekError("WebCrypto is not available here (a browser needs a secure context: https or localhost)");
  return s;
};

const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Standard base64 with padding; no Buffer, so it runs in the browser as well. */
export function bytesToBase64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 (padding required, no whitespace); null when it is not. */
export function base64ToBytes(s: string): Uint8Array | null {
  if (!BASE64.test(s)) return null;
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  // atob ignores non-zero trailing bits; only the canonical encoding is accepted.
  return bytesToBase64(out) === s ? out : null;
}

/** SHA-256 of the raw key, lowercase hex: what the server stores and compares. */
export async function cmekFingerprint(raw: Uint8Array): Promise<string> {
  if (raw.length !== CMEK_KEY_BYTES) throw new CmekError(`A customer key is ${CMEK_KEY_BYTES} bytes`);
  return toHex(new Uint8Array(await subtle().digest("SHA-256", raw as BufferSource)));
}

export const isCmekFingerprint = (s: string) => /^[0-9a-f]{64}$/.test(s);
export const cmekKeyIdOf = (fingerprint: string) => fingerprint.slice(0, CMEK_KEY_ID_BYTES * 2);

/** 32 random bytes from the platform's CSPRNG. */
export function generateCmekKeyBytes(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(CMEK_KEY_BYTES));
}

/** The raw key as a `X-CMEK-*-Key` header value or key file line: standard base64 of 32 bytes. */
export const encodeCmekKey = (raw: Uint8Array) => bytesToBase64(raw);

/** The text of a key file as the dashboard downloads it. */
export const cmekKeyFileText = (raw: Uint8Array) => `${encodeCmekKey(raw)}\n`;

/**
 * The raw key from a key file or a header: base64 of exactly 32 bytes, surrounding whitespace allowed.
 * `what` names the source in the error ("the key file", "X-CMEK-Old-Key").
 */
export function decodeCmekKey(text: string, what = "the key"): Uint8Array {
  const trimmed = text.trim();
  const raw = trimmed.length <= 64 ? base64ToBytes(trimmed) : null;
  if (!raw || raw.length !== CMEK_KEY_BYTES) throw new CmekError(`${what} must be the base64 of a ${CMEK_KEY_BYTES}-byte key`);
  return raw;
}

/** A usable key from its raw bytes (the CryptoKey is non-extractable). */
export async function importCmekKey(raw: Uint8Array): Promise<CmekKey> {
  const fingerprint = await cmekFingerprint(raw);
  const cryptoKey = await subtle().importKey("raw", raw as BufferSource, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  return { fingerprint, keyId: cmekKeyIdOf(fingerprint), cryptoKey };
}

/** Reads a key file's text and imports it. */
export const importCmekKeyFile = (text: string, what = "the key file") => importCmekKey(decodeCmekKey(text, what));

function aad(binding: CmekBinding, header: Uint8Array): Uint8Array<ArrayBuffer> {
  for (const [name, v] of [["vault id", binding.vaultId], ["path", binding.path]] as const) {
    if (!v || v.includes("\0")) throw new CmekError(`The ${name} a value is bound to must be non-empty and without NUL`);
  }
  const text = new TextEncoder().encode(`${AAD_PURPOSE}\0${binding.vaultId}\0${binding.path}\0`);
  const out = new Uint8Array(text.length + header.length);
  out.set(text);
  out.set(header, text.length);
  return out;
}

function headerFor(keyId: string): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  h[0] = CMEK_BLOB_VERSION;
  for (let i = 0; i < CMEK_KEY_ID_BYTES; i++) h[1 + i] = parseInt(keyId.slice(i * 2, i * 2 + 2), 16);
  return h;
}

/** Encrypts a value (UTF-8) under `key` for `binding`; returns the base64 blob to store as the value. */
export async function encryptCmekValue(key: CmekKey, binding: CmekBinding, plaintext: string | Uint8Array): Promise<string> {
  const header = headerFor(key.keyId);
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(CMEK_IV_BYTES));
  const data = typeof plaintext === "string" ? new TextEncoder().encode(plaintext) : plaintext;
  const sealed = new Uint8Array(
    await subtle().encrypt({ name: "AES-GCM", iv, additionalData: aad(binding, header), tagLength: 128 }, key.cryptoKey, data as BufferSource),
  );
  const blob = new Uint8Array(HEADER_BYTES + CMEK_IV_BYTES + sealed.length);
  blob.set(header);
  blob.set(iv, HEADER_BYTES);
  blob.set(sealed, HEADER_BYTES + CMEK_IV_BYTES);
  return bytesToBase64(blob);
}

export type CmekBlobInfo = { ok: true; keyId: string; bytes: Uint8Array } | { ok: false; reason: string };

/** The structure of a blob, without any key: what the server checks on every write to a CMEK vault. */
export function inspectCmekBlob(blob: string): CmekBlobInfo {
  const bytes = base64ToBytes(blob);
  if (!bytes) return { ok: false, reason: "is not standard base64 (a CMEK vault stores only client-encrypted blobs)" };
  if (bytes.length < CMEK_MIN_BLOB_BYTES) return { ok: false, reason: `is too short for a CMEK blob (at least ${CMEK_MIN_BLOB_BYTES} bytes)` };
  if (bytes[0] !== CMEK_BLOB_VERSION) return { ok: false, reason: `has an unknown CMEK blob version (expected 0x0${CMEK_BLOB_VERSION})` };
  return { ok: true, keyId: toHex(bytes.subarray(1, HEADER_BYTES)), bytes };
}

/** Opens a blob; throws CmekError when it is malformed, under another key, or bound elsewhere. */
export async function decryptCmekBytes(key: CmekKey, binding: CmekBinding, blob: string): Promise<Uint8Array> {
  const info = inspectCmekBlob(blob);
  if (!info.ok) throw new CmekError(`The value ${info.reason}`);
  if (info.keyId !== key.keyId) throw new CmekError(`The value is under another customer key (key id ${info.keyId}, yours is ${key.keyId})`);
  const b = info.bytes;
  try {
    return new Uint8Array(
      await subtle().decrypt(
        { name: "AES-GCM", iv: b.subarray(HEADER_BYTES, HEADER_BYTES + CMEK_IV_BYTES) as BufferSource, additionalData: aad(binding, b.subarray(0, HEADER_BYTES)), tagLength: 128 },
        key.cryptoKey,
        b.subarray(HEADER_BYTES + CMEK_IV_BYTES) as BufferSource,
      ),
    );
  } catch {
    throw new CmekError("The value did not open under this key: it was altered, or it belongs to another vault or path");
  }
}

export async function decryptCmekValue(key: CmekKey, binding: CmekBinding, blob: string): Promise<string> {
  return new TextDecoder("utf-8", { fatal: true }).decode(await decryptCmekBytes(key, binding, blob));
}
