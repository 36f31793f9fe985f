"use client";
import { formatInTimeZone, useTimeZone } from "./time-zone";

/** A moment in the user's time zone, with UTC on hover. */
export function LocalTime({ value }: { value: Date }) {
  const timeZone = useTimeZone();
  const utc = formatInTimeZone(value, "UTC");
  return (
    <time dateTime={value.toISOString()} title={utc}>
      {timeZone === "UTC" ? utc : formatInTimeZone(value, timeZone)}
    </time>
  );
}
