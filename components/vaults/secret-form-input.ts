import type { SecretType } from "@/lib/contract/secrets";
import type { PutSecretActionInput } from "./action-schemas";

/** What the secret form holds: every field as the user typed it. */
export type SecretFormState = {
  path: string;
  value: string;
  type: SecretType;
  metadata: string;
  /** A `datetime-local` value (the browser's local time), or "". */
  expiresAt: string;
  maxReads: string;
};

type Built = { ok: true; input: PutSecretActionInput } | { ok: false; errors: Record<string, string> };

/** `YYYY-MM-DDTHH:mm` in local time (what a datetime-local input shows) for an ISO timestamp. */
export function isoToLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * The form's text turned into the action's input (the PUT body plus ids). Only what text cannot
 * express is checked here (JSON syntax, a parsable date); the contract schema checks the rest, keyed
 * by the same field names (`body.metadata`, …) the server reports.
 */
export function toPutSecretInput(vaultId: string, f: SecretFormState): Built {
  const errors: Record<string, string> = {};

  let metadata: Record<string, unknown> | undefined;
  if (f.metadata.trim() !== "") {
    try {
      const parsed: unknown = JSON.parse(f.metadata);
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) metadata = parsed as Record<string, unknown>;
      else errors["body.metadata"] = "must be a JSON object, e.g. {\"owner\": \"billing\"}";
    } catch {
      errors["body.metadata"] = "is not valid JSON";
    }
  }

  let expiresAt: string | undefined;
  if (f.expiresAt !== "") {
    // A datetime-local value has no zone: Date reads it as local time, which is what the user saw.
    const d = new Date(f.expiresAt);
    if (Number.isNaN(d.getTime())) errors["body.expires_at"] = "is not a valid date and time";
    else expiresAt = d.toISOString();
  }

  let maxAccessCount: number | undefined;
  if (f.maxReads.trim() !== "") {
    maxAccessCount = Number(f.maxReads);
    if (!Number.isFinite(maxAccessCount)) errors["body.max_access_count"] = "must be a whole number";
  }

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    input: {
      vault_id: vaultId,
      path: f.path.trim(),
      body: {
        value: f.value,
        type: f.type,
        ...(metadata ? { metadata } : {}),
        ...(expiresAt ? { expires_at: expiresAt } : {}),
        ...(maxAccessCount !== undefined ? { max_access_count: maxAccessCount } : {}),
      },
    },
  };
}
