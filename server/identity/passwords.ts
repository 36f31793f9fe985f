import { createHash, randomBytes } from "node:crypto";
import argon2 from "argon2";
import { hit, release } from "../abuse/counters";
import { ApiError } from "../http/errors";
import { ipBucketKey } from "../http/rate-limit";
import type { Runtime } from "../runtime";

/**
 * Argon2id with OWASP's first recommended parameter set (m = 19 MiB, t = 2, p = 1). argon2 hashes in
 * the libuv threadpool, so a login never blocks the event loop. Parameters live in the encoded hash,
 * so raising them later keeps old hashes verifiable.
 */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS);
}

/**
 * Hash of a random string, computed on first need: unknown emails verify against it so they cost the
 * same as known ones (the first such login also pays for computing it, so it is slower, never faster).
 */
let dummyHash: Promise<string> | null = null;
function getDummyHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(32).toString("base64url"));
  return dummyHash;
}

/**
 * Verifies `password` against `hash`, or against a dummy hash with the same parameters when there is
 * no user, so a wrong email and a wrong password take the same time. A malformed hash is a mismatch.
 */
export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  try {
    const ok = await argon2.verify(hash ?? (await getDummyHash()), password);
    return hash !== null && ok;
  } catch {
    return false;
  }
}

const HOUR_MS = 60 * 60 * 1000;
const digest = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 32);
/** Keyed by the address as typed (normalised), not the user id: unknown addresses are limited alike. */
export const accountFailureKey = (email: string) => `login:account:${digest(email)}`;
/** An IPv6 client usually holds a whole /64: it gets one budget, as with the request rate limits. */
export const ipFailureKey = (ip: string) => `login:ip:${ipBucketKey(ip)}`;

/**
 * Password verification under brute-force limits (ASVS 2.2.1): the attempt is counted against the
 * account and the client IP *before* Argon2 runs, and refused with 429 once either counter is over
 * its limit — so an attacker past the limit costs us one upsert each, not a hash. A correct password
 * takes its reservation back, so only failures use up the budget. Counting first (rather than
 * checking, hashing, then counting) means concurrent guesses cannot slip past the limit together.
 */
export async function verifyPasswordLimited(
  rt: Pick<Runtime, "db" | "config">,
  attempt: { email: string; ip: string },
  hash: string | null,
  password: string,
): Promise<boolean> {
  const limits = rt.config.loginLimits;
  const keys = [
    { key: accountFailureKey(attempt.email), max: limits.failuresPerAccountPerHour },
    ...(attempt.ip ? [{ key: ipFailureKey(attempt.ip), max: limits.failuresPerIpPerHour }] : []),
  ];
  const states = await Promise.all(keys.map((k) => hit(rt.db, k.key, HOUR_MS)));
  const over = states.filter((s, i) => s.count > keys[i]!.max);
  if (over.length) {
    throw ApiError.tooManyRequests("Too many failed sign-in attempts. Try again later.", Math.max(...over.map((s) => s.retryAfterSeconds)));
  }
  const ok = await verifyPassword(hash, password);
  if (ok) await Promise.all(keys.map((k) => release(rt.db, k.key, HOUR_MS)));
  return ok;
}
