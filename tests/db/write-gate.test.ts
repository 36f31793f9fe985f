import { afterEach, describe, expect, it, vi } from "vitest";
import { WriteGate } from "../../server/db/write-gate";
import { setLogLevel } from "../../server/log";

/**
 * The gate that keeps SQLite's plain writes out of open transactions (server/db/sqlite-adapter.ts):
 * one holder at a time, first come first served, a release counts once, and a long wait is logged by
 * the waiter's kind only.
 */
afterEach(() => vi.restoreAllMocks());

describe("WriteGate", () => {
  it("has one holder at a time and serves waiters in arrival order", async () => {
    const gate = new WriteGate();
    const first = gate.tryAcquire();
    expect(first).not.toBeNull();
    expect(gate.tryAcquire()).toBeNull();
    const order: string[] = [];
    const waits = ["a", "b", "c"].map((w) =>
      gate.acquire(w).then((release) => {
        order.push(w);
        release();
      }),
    );
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]);
    first!();
    await Promise.all(waits);
    expect(order).toEqual(["a", "b", "c"]);
    // Control: free again once every holder released.
    const again = gate.tryAcquire();
    expect(again).not.toBeNull();
    again!();
  });

  it("a release called twice frees the gate once, not for two holders", async () => {
    const gate = new WriteGate();
    const release = gate.tryAcquire()!;
    const next = gate.acquire("next");
    release();
    const nextRelease = await next;
    release();
    expect(gate.tryAcquire()).toBeNull();
    nextRelease();
    expect(gate.tryAcquire()).not.toBeNull();
  });

  it("logs a long wait by the waiter's kind, without SQL or values; a short wait logs nothing", async () => {
    setLogLevel("warn");
    const lines: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const gate = new WriteGate(50);
    const quick = gate.tryAcquire()!;
    const quickWait = gate.acquire("secrets.consumeAccess");
    quick();
    (await quickWait)();
    await new Promise((r) => setTimeout(r, 80));
    expect(lines.filter((l) => l.includes("waiting for an open transaction"))).toEqual([]);

    const held = gate.tryAcquire()!;
    const slowWait = gate.acquire("secrets.consumeAccess");
    await new Promise((r) => setTimeout(r, 120));
    held();
    (await slowWait)();
    const warned = lines.filter((l) => l.includes("waiting for an open transaction"));
    expect(warned).toHaveLength(1);
    const entry = JSON.parse(warned[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: "warn", waiter: "secrets.consumeAccess" });
    expect(Object.keys(entry).sort()).toEqual(["level", "msg", "t", "waitedMs", "waiter"]);
  });
});
