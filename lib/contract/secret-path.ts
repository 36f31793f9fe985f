import { z } from "@hono/zod-openapi";

/** Secret paths: segments of letters, digits, `_` and `-` joined by `/`; no empty, `.` or `..` segment. */
export const SECRET_PATH_MAX = 512;
const SECRET_PATH_RE = /^[a-zA-Z0-9]([a-zA-Z0-9_\-/]*[a-zA-Z0-9])?$/;

export function secretPathProblem(path: string): string | null {
  if (path.length === 0) return "must not be empty";
  if (path.length > SECRET_PATH_MAX) return `must be at most ${SECRET_PATH_MAX} characters`;
  if (path.includes("//")) return "must not contain empty segments (//)";
  if (!SECRET_PATH_RE.test(path)) return "may contain only letters, digits, '_', '-' and '/', starting and ending with a letter or digit";
  return null;
}

export const ZSecretPath = z
  .string()
  .max(SECRET_PATH_MAX)
  .superRefine((p, ctx) => {
    const problem = secretPathProblem(p);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .openapi({ description: "Secret path; may contain `/` (e.g. `api-keys/stripe`)", example: "api-keys/stripe" });
