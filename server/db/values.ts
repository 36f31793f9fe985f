/**
 * Column values of driver rows (server/db/hot.ts) as the domain types them. The drivers differ: SQLite
 * gives DateTime as epoch-ms numbers and Boolean as 0/1, PostgreSQL gives Date and boolean; both give
 * Bytes as Buffer. One set of helpers for every repo that reads driver rows.
 */

export function toDate(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v;
  if (typeof v === "number" || typeof v === "bigint") return new Date(Number(v));
  if (typeof v === "string") return new Date(/^\d+$/.test(v) ? Number(v) : v);
  throw new TypeError("Unexpected DateTime value from the database");
}

export const toInt = (v: unknown): number => Number(v);

export const toIntOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export const toBool = (v: unknown): boolean => v === true || v === 1 || v === 1n || v === "1" || v === "true";

export const toStringOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw new TypeError("Unexpected Bytes value from the database");
}
