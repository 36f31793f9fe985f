import type { z } from "zod";

/** One problem with one input field, as API problem bodies (`fields`) and dashboard forms show it. */
export type FieldError = { field: string; message: string };

/**
 * zod issues → field errors: the dotted path of each bad field (each unknown key named on its own),
 * and zod's message. Shared by the API's validation hook and the dashboard's forms and actions, so a
 * field is reported the same way in a problem body and beside an input.
 */
export function fieldErrorsOf(issues: readonly z.core.$ZodIssue[], fallback = "body"): FieldError[] {
  return issues.map((i) => {
    const keys = i.code === "unrecognized_keys" ? i.keys : [];
    const field = keys.length ? keys.map((k) => [...i.path, k].join(".")).join(", ") : i.path.join(".") || fallback;
    return { field, message: i.code === "unrecognized_keys" ? "unknown field" : i.message };
  });
}
