import { createPublicKey, randomInt, verify } from "node:crypto";
import type { Db } from "../db";
import type { Keystore } from "../keystore/types";

/**
 * The signed checkpoint of an org's audit chain: "events 1..seq hold, and event seq hashes to hash",
 * signed by the keystore's signing key (inside the HSM with the pkcs11 provider). Verification starts
 * from it, so each call reads only what was appended since. A checkpoint whose signature fails — edited
 * in the database, or signed with a key the keystore no longer has — proves nothing and is ignored.
 *
 * The signed bytes start with a fixed label and contain newlines, which a JWT's signing input (two
 * base64url parts and a dot) never does: the one key cannot be made to vouch for one as the other.
 */
export type Checkpoint = { seq: number; hash: string };
export type StoredCheckpoint = Checkpoint & { status: "valid" | "rejected" };

const signedBytes = (orgId: string, cp: Checkpoint) => Buffer.from(`talon.audit-checkpoint.v1\n${orgId}\n${cp.seq}\n${cp.hash}`, "utf8");

export async function loadCheckpoint(db: Db, keystore: Keystore, orgId: string): Promise<StoredCheckpoint | null> {
  const row = await db.auditCheckpoint.findUnique({ where: { orgId } });
  if (!row) return null;
  const jwk = await keystore.signingJwk();
  let valid = false;
  if (row.keyId === jwk.kid && Number.isSafeInteger(row.seq) && row.seq > 0) {
    try {
      valid = verify(null, signedBytes(orgId, row), createPublicKey({ key: jwk, format: "jwk" }), Buffer.from(row.signature, "base64url"));
    } catch {
      valid = false;
    }
  }
  return { seq: row.seq, hash: row.hash, status: valid ? "valid" : "rejected" };
}

/** Signs (a keystore call, never inside a transaction) and stores the org's checkpoint, replacing the previous one. */
export async function storeCheckpoint(db: Db, keystore: Keystore, orgId: string, cp: Checkpoint): Promise<void> {
  const [signature, jwk] = await Promise.all([keystore.sign(signedBytes(orgId, cp)), keystore.signingJwk()]);
  const data = { seq: cp.seq, hash: cp.hash, signature: signature.toString("base64url"), keyId: jwk.kid };
  await db.auditCheckpoint.upsert({ where: { orgId }, create: { orgId, ...data }, update: data });
}

/**
 * At most one verification per org at a time, across instances: a lease in the shared `RateCounter`
 * table, claimed by one conditional upsert (the row is taken over only once its lease has expired) and
 * held by a random token. A crashed verifier's lease simply runs out. Long (full) runs renew it as
 * they go.
 */
export const VERIFY_LEASE_MS = 60_000;

export type VerifyLease = { renew(): Promise<void>; release(): Promise<void> };

export async function claimVerifyLease(db: Db, orgId: string, now = Date.now()): Promise<VerifyLease | null> {
  const key = `audit.verify:${orgId}`;
  const token = randomInt(1, 2 ** 31 - 1);
  const rows = await db.$queryRaw<{ count: number | bigint }[]>`
    INSERT INTO "RateCounter" ("key", "windowStart", "count") VALUES (${key}, ${BigInt(now + VERIFY_LEASE_MS)}, ${token})
    ON CONFLICT ("key") DO UPDATE SET "windowStart" = excluded."windowStart", "count" = excluded."count"
    WHERE "RateCounter"."windowStart" < ${BigInt(now)}
    RETURNING "count"`;
  if (rows.length !== 1 || Number(rows[0]!.count) !== token) return null;
  return {
    async renew() {
      await db.rateCounter.updateMany({ where: { key, count: token }, data: { windowStart: BigInt(Date.now() + VERIFY_LEASE_MS) } });
    },
    async release() {
      await db.rateCounter.deleteMany({ where: { key, count: token } });
    },
  };
}
