import type { ActionError, ActionProblem } from "@/lib/dashboard/action-result";

const LEADS: Record<number, string> = {
  403: "Not allowed",
  404: "Not found",
  409: "Conflict",
  410: "Gone",
};

/** A problem as one line: what kind (expired, not allowed, …) and the service's own explanation. */
export function problemMessage(p: ActionProblem): string {
  const lead = LEADS[p.status];
  return lead ? `${lead}: ${p.detail}` : p.detail;
}

/** The form-level message for a failed action: null when every field at fault is shown beside its input. */
export function formProblem(err: ActionError | null, shownFields: readonly string[]): string | null {
  if (!err) return null;
  const fields = err.problem.fields ?? [];
  if (fields.length > 0 && fields.every((f) => shownFields.includes(f.field))) return null;
  return problemMessage(err.problem);
}
