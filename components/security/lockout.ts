import type { ActionError } from "@/lib/dashboard/action-result";
import { humanFieldText } from "@/lib/dashboard/human-problem";

/**
 * The IP-rule service refuses a change that would block the caller's own address with a 400 naming
 * `cidr` with this message (server/security/ip-rules.ts); the dashboard then offers to force it.
 */
const LOCKOUT_FIELD_MESSAGE = "would block the caller's current IP address";

/** Field messages reach the dashboard in words (lib/dashboard/human-problem.ts): match either form. */
const LOCKOUT_MESSAGES = new Set([LOCKOUT_FIELD_MESSAGE, humanFieldText(LOCKOUT_FIELD_MESSAGE)]);

export function isLockout(error: ActionError | null): boolean {
  const message = error?.problem.status === 400 ? error.field("cidr") : undefined;
  return message !== undefined && LOCKOUT_MESSAGES.has(message);
}

/** The service's message without its API instructions (`?force=true`), which the dashboard replaces with a button. */
export function lockoutMessage(error: ActionError): string {
  return error.problem.detail.replace(/,? or repeat the request with \?force=true\.?$/, ".");
}
