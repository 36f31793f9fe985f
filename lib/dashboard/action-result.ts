import type { FieldError } from "../contract/field-errors";

/**
 * What every dashboard server action returns: the data, or the problem the API would have answered
 * (status, title, detail, and the fields at fault). Actions never throw to the browser, so a form can
 * show each message beside its field.
 */
export type ActionProblem = { status: number; title: string; detail: string; fields?: FieldError[] };
export type ActionResult<T> = { ok: true; data: T } | { ok: false; problem: ActionProblem };

/** Thrown by the client's mutation helper so react-query sees a failed action as an error. */
export class ActionError extends Error {
  constructor(readonly problem: ActionProblem) {
    super(problem.detail);
    this.name = "ActionError";
  }
  /** The message for one field, if the server named it. */
  field(name: string): string | undefined {
    return this.problem.fields?.find((f) => f.field === name)?.message;
  }
}
