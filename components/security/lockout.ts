import type { ActionError } from "@/lib/dashboard/action-result";

/**
 * The IP-rule service refuses a change that would block the caller's own address with a 400 naming
 * `cidr` with this message (server/security/ip-rules.ts); the dashboard then offers to force it.
 */
const LOCKOUT_FIELD_MESSAGE = "would block the caller's current IP address";

export function isLockout(error: ActionError | null): boolean {
  return error?.problem.status === 400 && error.field("cidr") === LOCKOUT_FIELD_MESSAGE;
}

/** The service's message without its API instructions (`?force=true`), which the dashboard replaces with a button. */
export function lockoutMessage(error: ActionError): string {
  return error.problem.detail.replace(/,? or repeat the request with \?force=true\.?$/, ".");
}
