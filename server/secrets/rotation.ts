import { AUTO_ROTATE_TYPES, type RotationPolicy, type SecretType, ZRotationPolicy } from "../../lib/contract/secrets";
import { ApiError } from "../http/errors";

/**
 * Rotation policies. A secret's `rotation_policy` (`Secret.rotationPolicy`, JSON text) sets how long
 * its latest version may live; `rotationDueAt` = that version's createdAt + interval, recomputed by
 * every new version, which also clears `rotationNotifiedAt`. What happens when it is due (a reminder,
 * or a scheduled rotation for `auto_rotate`) is ./rotation-scan.
 */
const DAY_MS = 86_400_000;

/** The stored policy, or null; a damaged row counts as no policy (a reminder, never an access rule). */
export function parseRotationPolicy(text: string | null): RotationPolicy | null {
  if (!text) return null;
  try {
    const parsed = ZRotationPolicy.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The Secret columns a new version at `createdAt` leaves behind, for the policy in force (`text`). */
export function rotationColumns(text: string | null, createdAt: Date) {
  const policy = parseRotationPolicy(text);
  return {
    rotationPolicy: policy ? JSON.stringify(policy) : null,
    rotationDueAt: policy ? new Date(createdAt.getTime() + policy.interval_days * DAY_MS) : null,
    rotationNotifiedAt: null,
  };
}

export type RotationFields = { rotation_policy?: RotationPolicy; rotation_due_at?: string | null; rotation_due?: boolean };

/** The response fields of a secret with these columns; none at all for a secret without a policy (the shapes clients already read). */
export function rotationFields(row: { rotationPolicy: string | null; rotationDueAt: Date | null }, now = Date.now()): RotationFields {
  const policy = parseRotationPolicy(row.rotationPolicy);
  if (!policy) return {};
  const dueAt = row.rotationDueAt;
  return { rotation_policy: policy, rotation_due_at: dueAt ? dueAt.toISOString() : null, rotation_due: dueAt !== null && dueAt.getTime() <= now };
}

/** Why the server cannot rotate a secret of `type` in `vault` itself, or null when it can. */
export function autoRotationRefusal(vault: { cmekEnabled: boolean }, type: string): "cmek" | "type" | null {
  if (vault.cmekEnabled) return "cmek";
  if (!(AUTO_ROTATE_TYPES as readonly string[]).includes(type)) return "type";
  return null;
}

/** A PUT setting `auto_rotate: true`: refused where the scheduled rotation could never run. */
export function assertAutoRotationAllowed(vault: { cmekEnabled: boolean }, type: SecretType, policy: RotationPolicy | null | undefined): void {
  if (!policy?.auto_rotate) return;
  const refusal = autoRotationRefusal(vault, type);
  if (refusal === "cmek") {
    throw ApiError.conflict("This vault uses a customer-managed key the server never holds, so it cannot rotate values itself: leave auto_rotate off and rotate from your client");
  }
  if (refusal === "type") {
    throw ApiError.badRequest(`auto_rotate is available for ${AUTO_ROTATE_TYPES.join(", ")} secrets only: a generated string is no valid ${type}`, [
      { field: "rotation_policy.auto_rotate", message: `not available for type ${type}` },
    ]);
  }
}
