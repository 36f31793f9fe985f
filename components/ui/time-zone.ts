"use client";
import { useSyncExternalStore } from "react";

/**
 * The time zone the dashboard shows times in: the browser's own unless the user picked another on the
 * Account page (kept in this browser's localStorage, so it needs no server round trip). The server
 * renders UTC; the browser switches to the chosen zone right after hydration.
 */
const STORAGE_KEY = "talon.timeZone";
const CHANGED = "talon:time-zone";

export const browserTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

function storedTimeZone(): string | null {
  try {
    const tz = window.localStorage.getItem(STORAGE_KEY);
    return tz && isTimeZone(tz) ? tz : null;
  } catch {
    return null;
  }
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("storage", onChange);
  window.addEventListener(CHANGED, onChange);
  return () => {
    window.removeEventListener("storage", onChange);
    window.removeEventListener(CHANGED, onChange);
  };
}

/** The zone to show times in; "UTC" while rendering on the server. */
export function useTimeZone(): string {
  return useSyncExternalStore(subscribe, () => storedTimeZone() ?? browserTimeZone(), () => "UTC");
}

/** The user's explicit choice, or null when following the browser. */
export function useChosenTimeZone(): string | null {
  return useSyncExternalStore(subscribe, storedTimeZone, () => null);
}

/** Picks a zone for this browser (null: follow the browser's own). */
export function chooseTimeZone(tz: string | null): void {
  if (tz === null) window.localStorage.removeItem(STORAGE_KEY);
  else if (isTimeZone(tz)) window.localStorage.setItem(STORAGE_KEY, tz);
  window.dispatchEvent(new Event(CHANGED));
}

/** `2026-12-03 23:40 UTC` / `2026-12-04 00:40 GMT+1`: sortable, unambiguous, with the zone named. */
export function formatInTimeZone(date: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  }).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")} ${part("hour")}:${part("minute")} ${part("timeZoneName")}`;
}
