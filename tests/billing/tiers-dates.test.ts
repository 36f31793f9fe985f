import { describe, expect, it } from "vitest";
import { dayOf, periodOf, periodStart } from "../../server/billing/tiers";

/** The UTC day and month keys of usage counters, remembered across calls: every instant gets its own day, in any order. */
describe("dayOf / periodOf", () => {
  const iso = (ms: number) => new Date(ms).toISOString();
  it("name the UTC day and month of any instant, whatever was asked before", () => {
    const instants = [
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      Date.UTC(2027, 0, 1, 0, 0, 0, 0),
      Date.UTC(2026, 11, 31, 0, 0, 0, 0),
      Date.UTC(2026, 11, 31, 0, 0, 0, 0) - 1,
      Date.UTC(2024, 1, 29, 12),
      Date.UTC(2027, 0, 1, 0, 0, 0, 1),
      0,
      Date.UTC(1969, 11, 31, 23, 0),
    ];
    for (const ms of [...instants, ...instants.reverse()]) {
      expect(dayOf(ms)).toBe(iso(ms).slice(0, 10));
      expect(periodOf(ms)).toBe(iso(ms).slice(0, 7));
    }
  });

  it("a random walk of instants agrees with toISOString", () => {
    let ms = Date.UTC(2026, 5, 1);
    for (let i = 0; i < 5_000; i++) {
      ms += Math.floor((Math.random() - 0.45) * 3 * 86_400_000);
      expect(dayOf(ms)).toBe(iso(ms).slice(0, 10));
    }
  });

  it("periodStart is the first instant of the month", () => {
    expect(periodStart(Date.UTC(2026, 11, 4, 17)).toISOString()).toBe("2026-12-01T00:00:00.000Z");
  });
});
