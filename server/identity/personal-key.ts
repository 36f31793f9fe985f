import { sha256 } from "../crypto/digest";

/**
 * Personal API keys: `1ck_` + 32 random bytes (base64url, 43 characters). The first 12 characters
 * after the prefix are a non-secret lookup handle (`keyPrefix`, unique); the key itself is stored only
 * as its SHA-256 — 256 random bits need no slow hash, and a fast one keeps every request cheap.
 */
export const PERSONAL_KEY_PREFIX = "1ck_";
const KEY_FORMAT = /^1ck_[A-Za-z0-9_-]{43}$/;
const LOOKUP_CHARS = 12;

export function parsePersonalKey(key: string): { keyPrefix: string; hash: Buffer } | null {
  if (!KEY_FORMAT.test(key)) return null;
  return { keyPrefix: key.slice(0, PERSONAL_KEY_PREFIX.length + LOOKUP_CHARS), hash: sha256(key) };
}
