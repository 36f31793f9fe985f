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
