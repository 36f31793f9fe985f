import { z } from "@hono/zod-openapi";

/** RFC 7807 problem body returned by every error. */
export const ZProblem = z
  .object({
    type: z.string().openapi({ example: "about:blank" }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    request_id: z.string().optional(),
  })
  .openapi("Problem");

export const ZUuid = z.uuid().max(36);
/** Emails are compared normalised: trimmed and lower-cased. */
export const ZEmail = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: "must be a valid email address" }))
  .openapi({ example: "ada@example.com" });
export const ZIsoDate = z.iso.datetime({ offset: true }).max(40);
/** How deeply a free-form JSON object may nest: the object itself is level 1, each object or array inside one more. */
export const JSON_MAX_DEPTH = 32;

/**
 * Whether a parsed JSON value nests deeper than `limit`. Iterative, and stops at the first branch past
 * the limit: a body of ten thousand nested objects parses fine but would overflow the stack of any
 * recursive walk (JSON.stringify included), so this runs before anything else looks inside.
 */
export function jsonNestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === "object") stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}

/**
 * Free-form JSON metadata, bounded once serialised (checked in the service). The depth check aborts
 * the remaining checks, so a size check that serialises the value never sees a too-deep one.
 */
export const ZMetadata = z
  .record(z.string().max(128), z.unknown())
  .refine((m) => !jsonNestsDeeperThan(m, JSON_MAX_DEPTH), { message: `must not nest deeper than ${JSON_MAX_DEPTH} levels`, abort: true })
  .openapi({ type: "object" });

export const ZIdParam = z.object({ id: ZUuid.openapi({ param: { name: "id", in: "path" } }) });

export const problemResponses = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((code) => [
      code,
      { description: PROBLEM_DESCRIPTIONS[code] ?? "Error", content: { "application/problem+json": { schema: ZProblem } } },
    ]),
  );

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid input; `fields` names what is wrong",
  401: "Missing, invalid, expired or revoked credentials",
  402: "Monthly request quota exhausted",
  403: "Not permitted, or a plan limit was reached",
  404: "Not found (also: another organisation's resource)",
  409: "Conflict",
  410: "Expired, deleted, disabled or used up",
  413: "Request body over 64 KiB",
  429: "Rate limited; see Retry-After",
};
