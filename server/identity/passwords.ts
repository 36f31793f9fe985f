import { randomBytes } from "node:crypto";
import argon2 from "argon2";
import { hit, release } from "../abuse/counters";
import { sha256 } from "../crypto/digest";
import { ApiError } from "../http/errors";
import { ipBucketKey } from "../http/rate-limit";
import type { Runtime } from "../runtime";

/**
 * Argon2id with OWASP's first recommended parameter set (m = 19 MiB, t = 2, p = 1). argon2 hashes in
 * the libuv threadpool, so a login never blocks the event loop. Parameters live in the encoded hash,
 * so raising them later keeps old hashes verifiable.
 */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

/**
 * A counting semaphore with a bounded queue and a bounded wait. Argon2 runs in libuv's threadpool
 * (4 threads by default), which file, DNS and crypto work share: unbounded hashing for
 * unauthenticated callers would starve token and HSM work. Excess callers wait briefly in line;
 * past the queue bound or the wait bound they get 503 with Retry-After instead of hashing.
 */
export class WorkGate {
  private active = 0;
  private readonly waiting: { start(): void; timer: NodeJS.Timeout }[] = [];

  constructor(
    readonly maxActive: number,
    readonly maxQueued: number,
    readonly maxWaitMs: number,
  ) {}

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await work();
    } finally {
      this.releaseSlot();
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.maxActive) {
      this.active++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxQueued) return Promise.reject(busy());
    return new Promise((resolve, reject) => {
      const entry = {
        // The slot is handed over by `releaseSlot` without being freed, so a newcomer cannot take it first.
        start: () => {
          clearTimeout(entry.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(busy());
        }, this.maxWaitMs),
      };
      this.waiting.push(entry);
    });
  }

  private releaseSlot() {
    const next = this.waiting.shift();
    if (next) next.start();
    else this.active--;
  }
}

const busy = () =>
  new ApiError(503, "The server is busy checking passwords; try again in a moment", { headers: { "Retry-After": "1" } });

/** Two hashes at a time leave half of the default threadpool to everything else. */
export const passwordGate = new WorkGate(2, 32, 3_000);

export function hashPassword(password: string): Promise<string> {
  return passwordGate.run(() => argon2.hash(password, ARGON2_OPTIONS));
}

/**
 * Hash of a random string, computed on first need: unknown emails verify against it so they cost the
 * same as known ones (the first such login also pays for computing it, so it is slower, never faster).
 */
let dummyHash: Promise<string> | null = null;
function getDummyHash(): Promise<string> {
  // Outside the gate: a refusal must not be cached as the dummy hash.
  dummyHash ??= argon2.hash(randomBytes(32).toString("base64url"), ARGON2_OPTIONS);
  return dummyHash;
}

/**
 * Verifies `password` against `hash`, or against a dummy hash with the same parameters when there is
 * no user, so a wrong email and a wrong password take the same time. A malformed hash is a mismatch.
 */
export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  const target = hash ?? (await getDummyHash());
  return passwordGate.run(async () => {
    try {
      const ok = await argon2.verify(target, password);
      return hash !== null && ok;
    } catch {
      return false;
    }
  });
}

const HOUR_MS = 60 * 60 * 1000;
/** An address as an abuse counter's key: its digest, so the counters table never holds the address. */
export const emailDigest = (email: string) => sha256(email, "hex").slice(0, 32);
/** Keyed by the address as typed (normalised), not the user id: unknown addresses are limited alike. */
export const accountFailureKey = (email: string) => `login:account:${emailDigest(email)}`;
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
  let ok: boolean;
  try {
    ok = await verifyPassword(hash, password);
  } catch (e) {
    // Refused as busy (503): no password was checked, so no failure is counted.
    await Promise.all(keys.map((k) => release(rt.db, k.key, HOUR_MS)));
    throw e;
  }
  if (ok) await Promise.all(keys.map((k) => release(rt.db, k.key, HOUR_MS)));
  return ok;
}
