import { randomFillSync } from "node:crypto";

/** Random bytes drawn 16 at a time, refilled in one call per 256 ids (randomUUID does the same). */
const pool = Buffer.allocUnsafe(16 * 256);
let offset = pool.length;

/**
 * A UUID version 7 (RFC 9562): the creation time in milliseconds, then 74 random bits. For rows
 * inserted on the hot path into indexes keyed by their id (audit events, secret versions): successive
 * ids land next to each other in the primary-key B-tree, so a batch of inserts dirties a page or two of
 * it instead of one random page per row. Measured on SQLite (WAL, 100,000 rows, 20 per commit) with
 * the audit table's indexes: ≈ 45 µs per row with random (v4) ids, ≈ 21 µs with these.
 *
 * The id reveals its row's creation time to the millisecond, which these rows carry in the open
 * anyway (`created_at`); ids that must reveal nothing (tokens, share links) stay random.
 */
export function timeOrderedId(now: number = Date.now()): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const b = pool.subarray(offset, offset + 16);
  offset += 16;
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
