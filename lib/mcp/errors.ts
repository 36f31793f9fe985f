import type { SdkError, SdkMeta } from "../sdk";

/** What a tool does on failure: which list the agent should consult when something is not found. */
export type NotFoundHint = "secret" | "vault" | "transaction";

/**
 * The text an agent sees when a call fails: first what to do about it, then the server's own
 * `detail` (a problem detail never holds a secret value) and the request id for the human.
 */
export function errorText(error: SdkError, meta: SdkMeta, hint: NotFoundHint = "secret"): string {
  const advice = adviceFor(error, meta.status, hint);
  const detail = error.detail ? `\nServer detail: ${error.detail}` : "";
  const fields = error.fields?.length ? `\nInvalid fields: ${error.fields.map((f) => `${f.field} (${f.message})`).join("; ")}` : "";
  const requestId = meta.requestId ? `\nRequest id: ${meta.requestId}` : "";
  return `${advice}${detail}${fields}${requestId}`;
}

/**
 * 410 has several causes and each needs a different next step; the server's problem detail names
 * which one (server/secrets/read.ts, server/shares/*), so the agent is told the right one.
 */
function goneAdvice(detail: string): string {
  if (/has been deleted/i.test(detail)) {
    return "The secret was deleted. Ask the user whether it should be restored (storing a value at the same path brings it back) or where it moved; do not guess a replacement.";
  }
  if (/max_access_count|max access count/i.test(detail)) {
    return "The secret has used up its max access count (it allowed a fixed number of reads). Ask the user to store a new version if it is still needed.";
  }
  if (/has expired/i.test(detail)) return "The secret (or share) has expired. Ask the user to store a new version, or to share it again, if it is still needed.";
  if (/disabled/i.test(detail)) return "That version of the secret was disabled. Ask the user to store a new version or re-enable it.";
  if (/share has ended|no longer has access|declined/i.test(detail)) return "This share can no longer be used (see the detail). Ask the person who shared it to share it again.";
  return "The secret is gone: it has expired or used up its max access count (or that version was disabled or deleted). Ask the user to store a new version.";
}

/**
 * approval_required: nothing failed — a human must approve first. The agent is told, in words it can
 * relay, what is pending and its id; then to retry once the human says it is decided (or check with
 * get_approval_status), not to loop.
 */
function approvalAdvice(detail: string): string {
  const id = /\b([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/.exec(detail)?.[1];
  return (
    "Pending human approval: this action needs a person to approve it before Talon lets it through. " +
    `Tell your human: "I asked Talon for access and it is waiting for your approval${id ? ` (approval request ${id})` : ""}. Please approve or deny it in the Talon dashboard under Approvals." ` +
    "When they have decided, retry the same call once (or check with get_approval_status). Do not retry in a loop; a denied request stays denied."
  );
}

function adviceFor(error: SdkError, status: number, hint: NotFoundHint): string {
  switch (status) {
    case 0:
      return error.type === "network_error"
        ? "Could not reach the Talon server. Check ONECLAW_BASE_URL and that the server is running, then retry."
        : "The request was refused before it was sent: check the parameters.";
    case 400:
      return "The request was invalid: fix the parameters named below and try again.";
    case 401:
      return "Talon did not accept this agent's credentials (missing, expired, revoked or wrong key). Ask the user to check the agent's credentials (ONECLAW_AGENT_ID / ONECLAW_AGENT_API_KEY, or the bearer token of the hosted connection).";
    case 402:
      return "The organisation's request quota is exhausted or payment is required: ask the human to top up credits or upgrade the plan in Talon's billing settings.";
    case 403:
      if (error.type === "approval_required") return approvalAdvice(error.detail);
      return error.type === "resource_limit_exceeded"
        ? "A plan limit was reached: ask the human to upgrade the plan in Talon's billing settings."
        : "Access denied: ask the user to grant this agent access via a policy on this vault and path (or check the detail: a guardrail, vault binding or IP rule may apply).";
    case 404:
      if (hint === "transaction") return "Not found: use list_transactions to see this agent's transactions.";
      return hint === "vault" ? "Not found: use list_vaults to see the vaults available to you." : "Secret not found: use list_secrets to see available paths.";
    case 409:
      return "Conflict: it already exists (for a vault, the name is taken in this organisation). Choose another name or use the existing one.";
    case 410:
      return goneAdvice(error.detail);
    case 413:
      return "The request is too large: secret values are limited to 48 KiB.";
    case 422:
      return "The server could not process this input: check it and try again.";
    case 429:
      return "Rate limited: wait a little (see the detail for how long) and retry.";
    default:
      return status >= 500 ? "Talon had an internal problem: try again later; if it persists, tell the user (with the request id)." : `The request failed (HTTP ${status}).`;
  }
}
