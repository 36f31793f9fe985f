import type { ActionError } from "@/lib/dashboard/action-result";

/** One entry per non-blank line, trimmed (scopes, addresses, CIDRs). */
export const lines = (text: string): string[] =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

/**
 * A `datetime-local` value (the browser's time zone) as an ISO instant; an unparsable value is passed
 * through so the contract schema reports it.
 */
export function localToIso(value: string): string {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toISOString();
}

/** An ISO instant as a `datetime-local` value in the browser's time zone. */
export function isoToLocal(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * Client-side errors, then the server's; a server action wraps the request as `body`, so its field
 * names lose that prefix to match the form's.
 */
function formErrors(clientErrors: Record<string, string>, error: ActionError | null): (readonly [string, string])[] {
  return [...Object.entries(clientErrors), ...(error?.problem.fields ?? []).map((f) => [f.field.replace(/^body\./, ""), f.message] as const)];
}

/** The first message for `field` or anything inside it (`conditions.time_window.after`). */
export function nestedFieldMessage(field: string, clientErrors: Record<string, string>, error: ActionError | null): string | undefined {
  return formErrors(clientErrors, error).find(([name]) => name === field || name.startsWith(`${field}.`))?.[1];
}

/**
 * The first message for a one-per-line list field: zod names items `field.3`, shown as "Line 4".
 */
export function listFieldMessage(field: string, clientErrors: Record<string, string>, error: ActionError | null): string | undefined {
  for (const [name, message] of formErrors(clientErrors, error)) {
    if (name === field) return message;
    const index = name.startsWith(`${field}.`) ? /^\d+/.exec(name.slice(field.length + 1)) : null;
    if (index) return `Line ${Number(index[0]) + 1}: ${message}`;
  }
  return undefined;
}
