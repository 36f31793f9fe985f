import { z } from "@hono/zod-openapi";

/**
 * Names people choose for themselves (and, through sign-up, for their organisation) end up in other
 * people's dashboards and mails: no control or invisible formatting characters (line breaks, bidi
 * overrides, zero-width joiners), which could forge extra lines or reorder what a reader sees.
 */
export const DISPLAY_NAME_MAX = 128;
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const UNPRINTABLE_ALL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

export const ZDisplayName = z
  .string()
  .trim()
  .max(DISPLAY_NAME_MAX)
  .refine((s) => !UNPRINTABLE.test(s), { message: "must not contain control characters or line breaks" })
  .openapi({ example: "Ada Lovelace" });

/** The same rule for a name that arrives from elsewhere (e.g. a Google profile): cleaned, not refused. */
export function cleanDisplayName(name: string): string {
  return name.replace(UNPRINTABLE_ALL, " ").replace(/\s+/g, " ").trim().slice(0, DISPLAY_NAME_MAX);
}
