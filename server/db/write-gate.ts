import { log } from "../log";

/** A wait this long for the gate is worth a warning: a transaction held open, or a write issued from inside one. */
const SLOW_WAIT_MS = 5_000;

/**
 * The right to use SQLite's one writing connection: an interactive transaction holds it from BEGIN to
 * COMMIT/ROLLBACK, a plain write for the one statement. Holders are served first come, first served.
 *
 * A caller that waits longer than `slowMs` is logged by what it is (`waiter`: "transaction", "write",
 * a hot-path statement's name), never by its SQL or values. The classic cause is code inside a
 * `$transaction` callback writing through the global client instead of `tx`: that write waits for the
 * transaction, which waits for the write, until Prisma's transaction timeout ends both.
 */
export class WriteGate {
  private held = false;
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly slowMs = SLOW_WAIT_MS) {}

  /** Whether someone holds the gate now (a transaction or a write in progress on the writer). */
  get busy(): boolean {
    return this.held;
  }

  /** The gate at once (a release function), or null when it is held. */
  tryAcquire(): (() => void) | null {
    if (this.held) return null;
    this.held = true;
    return this.releaser();
  }

  /** The gate once every earlier holder and waiter is done; call the release function exactly once after. */
  acquire(waiter: string): Promise<() => void> {
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    const since = Date.now();
    return new Promise((resolve) => {
      const slow = setTimeout(() => log.warn("sqlite: still waiting for an open transaction to finish", { waiter, waitedMs: Date.now() - since }), this.slowMs);
      slow.unref();
      this.waiters.push(() => {
        clearTimeout(slow);
        resolve(this.releaser());
      });
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Handed straight to the next waiter: nobody can slip in between.
      const next = this.waiters.shift();
      if (next) next();
      else this.held = false;
    };
  }
}
