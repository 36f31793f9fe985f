/**
 * Policy time windows: `{after: "08:00", before: "20:00", timezone: "Europe/Paris", days_of_week: [1..5]}`.
 * Days follow ISO 8601 (1 = Monday … 7 = Sunday). A window whose `after` is later than `before` spans
 * midnight (22:00–06:00); `days_of_week` then refers to the day the window opened.
 */
export type TimeWindow = { after?: string; before?: string; timezone?: string; days_of_week?: number[] };

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

export function timeWindowProblem(w: TimeWindow): string | null {
  if (w.after !== undefined && !HHMM.test(w.after)) return "time_window.after must be HH:MM (24 h)";
  if (w.before !== undefined && !HHMM.test(w.before)) return "time_window.before must be HH:MM (24 h)";
  if (w.timezone !== undefined && !isTimeZone(w.timezone)) return "time_window.timezone must be an IANA time zone such as UTC or Europe/Paris";
  if (w.days_of_week?.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) return "time_window.days_of_week must hold integers 1 (Monday) to 7 (Sunday)";
  return null;
}

function isTimeZone(tz: string): boolean {
  if (tz.length > 64) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function localParts(now: Date, timeZone: string): { minutes: number; weekday: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", hour: "2-digit", minute: "2-digit", weekday: "short" });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(now).map((p) => [p.type, p.value]));
  return { minutes: Number(parts.hour) * 60 + Number(parts.minute), weekday: WEEKDAYS[parts.weekday!] ?? 0 };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function inTimeWindow(w: TimeWindow, now: Date = new Date()): boolean {
  const { minutes, weekday } = localParts(now, w.timezone ?? "UTC");
  const after = w.after !== undefined ? toMinutes(w.after) : 0;
  const before = w.before !== undefined ? toMinutes(w.before) : 24 * 60;
  let openedOn = weekday;
  let inside: boolean;
  if (after <= before) inside = minutes >= after && minutes < before;
  else {
    inside = minutes >= after || minutes < before;
    if (minutes < before) openedOn = weekday === 1 ? 7 : weekday - 1;
  }
  if (!inside) return false;
  return !w.days_of_week?.length || w.days_of_week.includes(openedOn);
}
