import type { ActionError, ActionProblem } from "@/lib/dashboard/action-result";
import { humanProblem } from "@/lib/dashboard/human-problem";

/**
 * A problem as one line for a person: the action's detail, already in words (no "Conflict:" lead, no
 * field or API paths: lib/dashboard/human-problem.ts). Mapped again here in case it came from elsewhere.
 */
export function problemMessage(p: ActionProblem): string {
  return humanProblem(p).detail;
}

/** The form-level message for a failed action: null when every field at fault is shown beside its input. */
export function formProblem(err: ActionError | null, shownFields: readonly string[]): string | null {
  if (!err) return null;
  const fields = err.problem.fields ?? [];
  if (fields.length > 0 && fields.every((f) => shownFields.includes(f.field))) return null;
  return problemMessage(err.problem);
}
