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
/** Free-form JSON metadata, bounded once serialised (checked in the service). */
export const ZMetadata = z.record(z.string().max(128), z.unknown()).openapi({ type: "object" });

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
