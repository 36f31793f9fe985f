import pg from "pg";
import { vi } from "vitest";

/**
 * The names of the driver statements (server/db/hot.ts names each one) sent through pg's pools while
 * `fn` runs, in order. Nothing is sent on SQLite, so the list is empty there.
 */
export async function statementsDuring<T>(fn: () => Promise<T>): Promise<{ result: T; names: string[] }> {
  const spy = vi.spyOn(pg.Pool.prototype, "query");
  try {
    const result = await fn();
    return { result, names: spy.mock.calls.map(([q]) => (q as { name?: string }).name ?? "") };
  } finally {
    spy.mockRestore();
  }
}
