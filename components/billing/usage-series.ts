/** One bar per day of the month `period` ("YYYY-MM"): the metered rows, and zero for days without one. */
export type DayBar = { day: string; dayOfMonth: number; requests: number };

export function monthSeries(period: string, daily: { day: string; requests: number }[]): DayBar[] {
  const [year, month] = period.split("-").map(Number) as [number, number];
  // Day 0 of the next month is this month's last day.
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const byDay = new Map(daily.map((d) => [d.day, d.requests]));
  return Array.from({ length: days }, (_, i) => {
    const day = `${period}-${String(i + 1).padStart(2, "0")}`;
    return { day, dayOfMonth: i + 1, requests: byDay.get(day) ?? 0 };
  });
}

/** "November 2026" for "2026-11", in UTC like the periods themselves. */
export const periodLabel = (period: string) => new Date(`${period}-01T00:00:00Z`).toLocaleDateString("en-US", { month: "long", year: "numeric", timeZone: "UTC" });

/** "Nov 3" for "2026-11-03". */
export const dayLabel = (day: string) => new Date(`${day}T00:00:00Z`).toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
