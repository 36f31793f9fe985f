import { WEBHOOK_EVENTS, type WebhookEventFilter } from "../../lib/contract/webhooks";
import { sha256 } from "../crypto/digest";

/**
 * What a webhook receives: events `{ id, type, created_at, org_id, data }`, batched as
 * `{ "events": [...] }`. Event ids are derived from what the event is about (the audit event, the
 * secret version), so the same event written twice has the same id and receivers dedupe on it.
 *
 * - every audit event of the org, as `audit.<action>` (filter `audit.*`), with the chain fields of
 *   the audit export (seq, prev_hash, hash and every hashed field) so a SIEM can verify the chain;
 * - `secret.updated` (a version written, rotated or disabled) and `secret.deleted`, from the same
 *   audit events;
 * - `secret.expiring`, from the periodic scan (./expiring), once per version;
 * - `secret.rotation_due`, from the `secret.rotation_due` audit event the rotation scan writes once
 *   per due date (server/secrets/rotation-scan.ts).
 */
export type AuditEventForSinks = {
  id: string;
  orgId: string;
  action: string;
  actorId: string;
  actorType: string;
  resourceType: string;
  resourceId: string;
  details: string;
  ipAddress: string;
  requestId: string;
  createdAt: Date;
  seq: number;
  prevHash: string;
  hash: string;
};

export type WebhookEvent = { id: string; type: string; created_at: string; org_id: string; data: Record<string, unknown> };

/** `evt_` + 32 hex, from the event type and the id of what it is about. */
export const eventIdFor = (type: string, sourceId: string) => `evt_${sha256(`${type}:${sourceId}`, "hex").slice(0, 32)}`;

/** The audit export's record shape (lib/contract/audit AuditExportRecord): the fields a chain check needs. */
export function auditRecord(r: AuditEventForSinks) {
  return {
    seq: r.seq,
    id: r.id,
    created_at: r.createdAt.toISOString(),
    org_id: r.orgId,
    action: r.action,
    actor: r.actorId,
    actor_type: r.actorType,
    resource_type: r.resourceType,
    resource_id: r.resourceId,
    details: r.details,
    ip_address: r.ipAddress,
    request_id: r.requestId,
    prev_hash: r.prevHash,
    hash: r.hash,
  };
}

const SECRET_CHANGES: Readonly<Record<string, "secret.updated" | "secret.deleted">> = {
  "secret.write": "secret.updated",
  "secret.rotate": "secret.updated",
  "secret.version_disable": "secret.updated",
  "secret.delete": "secret.deleted",
};

function parseDetails(details: string): Record<string, unknown> {
  try {
    const d = JSON.parse(details) as unknown;
    return d !== null && typeof d === "object" && !Array.isArray(d) ? (d as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The events one audit event makes for a webhook subscribed to `filters`. */
export function eventsForAudit(r: AuditEventForSinks, filters: ReadonlySet<string>): WebhookEvent[] {
  const out: WebhookEvent[] = [];
  const at = r.createdAt.toISOString();
  if (filters.has("audit.*")) {
    const type = `audit.${r.action}`;
    out.push({ id: eventIdFor("audit", r.id), type, created_at: at, org_id: r.orgId, data: auditRecord(r) });
  }
  const change = SECRET_CHANGES[r.action];
  if (change && filters.has(change)) {
    const d = parseDetails(r.details);
    out.push({
      id: eventIdFor(change, r.id),
      type: change,
      created_at: at,
      org_id: r.orgId,
      data: { secret_id: r.resourceId, vault_id: d.vault_id ?? null, path: d.path ?? null, version: d.version ?? null, action: r.action, actor: r.actorId, audit_event_id: r.id },
    });
  }
  if (r.action === "secret.rotation_due" && filters.has("secret.rotation_due")) {
    const d = parseDetails(r.details);
    out.push({
      id: eventIdFor("secret.rotation_due", r.id),
      type: "secret.rotation_due",
      created_at: at,
      org_id: r.orgId,
      data: { secret_id: r.resourceId, vault_id: d.vault_id ?? null, path: d.path ?? null, version: d.version ?? null, due_at: d.due_at ?? null, audit_event_id: r.id },
    });
  }
  return out;
}

/** A stored `events` column (JSON array); unknown entries are ignored, a damaged one subscribes to nothing. */
export function parseEventFilters(stored: string): WebhookEventFilter[] {
  try {
    const a = JSON.parse(stored) as unknown;
    return Array.isArray(a) ? (a.filter((e) => (WEBHOOK_EVENTS as readonly unknown[]).includes(e)) as WebhookEventFilter[]) : [];
  } catch {
    return [];
  }
}
