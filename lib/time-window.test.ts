import { describe, expect, it } from "vitest";
import { inTimeWindow, timeWindowProblem } from "./time-window";

// 2026-11-23 is a Monday.
const at = (iso: string) => new Date(iso);

describe("inTimeWindow", () => {
  it("checks hours in the given time zone", () => {
    const w = { after: "08:00", before: "20:00", timezone: "UTC" };
    expect(inTimeWindow(w, at("2026-11-23T08:00:00Z"))).toBe(true);
    expect(inTimeWindow(w, at("2026-11-23T19:59:00Z"))).toBe(true);
    expect(inTimeWindow(w, at("2026-11-23T20:00:00Z"))).toBe(false);
    expect(inTimeWindow(w, at("2026-11-23T07:59:00Z"))).toBe(false);
    // 07:30 UTC is 08:30 in Paris (CET, UTC+1 in November)
    expect(inTimeWindow({ ...w, timezone: "Europe/Paris" }, at("2026-11-23T07:30:00Z"))).toBe(true);
  });

  it("checks days of the week", () => {
    const weekdays = { days_of_week: [1, 2, 3, 4, 5] };
    expect(inTimeWindow(weekdays, at("2026-11-23T12:00:00Z"))).toBe(true); // Monday
    expect(inTimeWindow(weekdays, at("2026-11-22T12:00:00Z"))).toBe(false); // Sunday
  });

  it("handles windows across midnight", () => {
    const night = { after: "22:00", before: "06:00", days_of_week: [7] };
    expect(inTimeWindow(night, at("2026-11-22T23:00:00Z"))).toBe(true); // Sunday night
    expect(inTimeWindow(night, at("2026-11-23T05:00:00Z"))).toBe(true); // Monday early, opened Sunday
    expect(inTimeWindow(night, at("2026-11-23T23:00:00Z"))).toBe(false); // Monday night
    expect(inTimeWindow(night, at("2026-11-22T12:00:00Z"))).toBe(false);
  });

  it("names what is wrong", () => {
    expect(timeWindowProblem({ after: "8:00" })).toMatch(/after/);
    expect(timeWindowProblem({ timezone: "Mars/Olympus" })).toMatch(/timezone/);
    expect(timeWindowProblem({ days_of_week: [0] })).toMatch(/days_of_week/);
    expect(timeWindowProblem({ after: "08:00", before: "20:00", timezone: "UTC", days_of_week: [1] })).toBeNull();
  });
});
