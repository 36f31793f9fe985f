/**
 * Fixed-window counters (server/abuse/counters.ts, the shared rate limits) restart at every multiple
 * of their window. A burst that a test expects to be counted in one window must not straddle an edge:
 * split over two, it legitimately gets up to twice the budget. Waits, when the current window ends
 * within `marginMs`, until just after it has.
 */
export async function clearOfWindowEdge(windowMs: number, marginMs: number): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left <= marginMs) await new Promise((r) => setTimeout(r, left + 200));
}

/**
 * The database counters' windows (15 minutes: passphrase guesses, MFA failures; an hour: sign-in
 * failures, reset mails, audited failures) all end on a multiple of 15 minutes. A test that counts up
 * to one of their limits starts at least `marginMs` (its own duration, with room) before such an edge.
 */
export const clearOfCounterEdges = (marginMs = 20_000) => clearOfWindowEdge(15 * 60_000, marginMs);
