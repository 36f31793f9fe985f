import type { FieldError } from "../contract/field-errors";
import { humanProblem } from "./human-problem";

/**
 * What every dashboard server action returns: the data, or the problem the API would have answered
 * (status, title, detail, and the fields at fault). Actions never throw to the browser, so a form can
 * show each message beside its field.
 */
export type ActionProblem = { status: number; title: string; detail: string; fields?: FieldError[] };
export type ActionResult<T> = { ok: true; data: T } | { ok: false; problem: ActionProblem };

/**
 * Thrown by the client's mutation helper so react-query sees a failed action as an error. Its problem
 * is in words for a person whatever built it (the mapping is idempotent: actions already send it so).
 */
export class ActionError extends Error {
  readonly problem: ActionProblem;
  constructor(problem: ActionProblem) {
    const human = humanProblem(problem);
    super(human.detail);
    this.problem = human;
    this.name = "ActionError";
  }
  /** The message for one field, if the server named it. */
  field(name: string): string | undefined {
    return this.problem.fields?.find((f) => f.field === name)?.message;
  }
}
