import { randomBytes, timingSafeEqual } from "node:crypto";
import { sha256 } from "../crypto/digest";

/**
 * Agent keys: `ocv_` + 32 random bytes (base64url, 43 characters). As with personal `1ck_` keys, the
 * first 12 characters after the prefix are a non-secret lookup handle (`keyPrefix`, unique) and the key
 * is stored only as its SHA-256: 256 random bits need no slow hash.
 */
export const AGENT_KEY_PREFIX = "ocv_";
const KEY_FORMAT = /^ocv_[A-Za-z0-9_-]{43}$/;
const LOOKUP_CHARS = 12;

export type ParsedAgentKey = { keyPrefix: string; hash: Buffer };

export function parseAgentKey(key: string): ParsedAgentKey | null {
  if (!KEY_FORMAT.test(key)) return null;
  return { keyPrefix: key.slice(0, AGENT_KEY_PREFIX.length + LOOKUP_CHARS), hash: sha256(key) };
}

export function newAgentKey(): { key: string; keyPrefix: string; keyHash: string } {
  const key = AGENT_KEY_PREFIX + randomBytes(32).toString("base64url");
  const { keyPrefix, hash } = parseAgentKey(key)!;
  return { key, keyPrefix, keyHash: hash.toString("hex") };
}

/** Constant-time comparison of a presented key's hash with the stored hex hash. */
export function agentKeyMatches(storedHashHex: string | null | undefined, presented: ParsedAgentKey | null): boolean {
  const stored = storedHashHex ? Buffer.from(storedHashHex, "hex") : null;
  // Always one comparison of 32 bytes, so a missing key or hash costs what a wrong key does.
  const a = stored?.length === 32 ? stored : Buffer.alloc(32);
  const b = presented?.hash ?? Buffer.alloc(32, 0xff);
  return timingSafeEqual(a, b) && stored?.length === 32 && presented !== null;
}
