import { randomUUID } from "node:crypto";
import type { Tx } from "../db";
import { type AuditEventForSinks, eventsForAudit, parseEventFilters, type WebhookEvent } from "./events";

/**
 * The durable outbox. Called by the audit chain (server/audit/chain.ts) inside the transaction that
 * appends the events, so an event and its deliveries commit together or not at all: nothing the
 * audit log holds can be missed by a webhook, across crashes and restarts. The worker (./delivery)
 * sends them later. Orgs without an active webhook cost one indexed query per appended batch.
 *
 * The operator's file sink (./file-sink) is told about the rows here too; it writes them only once
 * they are visible as committed.
 */
const FILE_SINKS = Symbol.for("talon.auditFileSinks");
type Noter = { note(rows: readonly AuditEventForSinks[]): void };
const g = globalThis as typeof globalThis & { [FILE_SINKS]?: Set<Noter> };
/** Process-wide (Next.js bundles its own copy of this module; both must reach the same sinks). */
export const auditFileSinks = (g[FILE_SINKS] ??= new Set<Noter>());

export type OutboxRow = { id: string; webhookId: string; eventId: string; eventType: string; payload: string; nextAttemptAt: Date; createdAt: Date };

export const outboxRow = (webhookId: string, ev: WebhookEvent, now: Date): OutboxRow => ({
  id: randomUUID(),
  webhookId,
  eventId: ev.id,
  eventType: ev.type,
  payload: JSON.stringify(ev),
  nextAttemptAt: now,
  createdAt: now,
});

/** What the outbox reads and writes inside the audit append's transaction (a Prisma one, or the driver's: ./repo). */
export type OutboxStore = {
  activeWebhooks(orgIds: readonly string[]): Promise<{ id: string; orgId: string; events: string }[]>;
  insertDeliveries(rows: readonly OutboxRow[]): Promise<void>;
};

export const prismaOutbox = (tx: Tx): OutboxStore => ({
  activeWebhooks: (orgIds) => tx.webhook.findMany({ where: { orgId: { in: [...orgIds] }, isActive: true }, select: { id: true, orgId: true, events: true } }),
  insertDeliveries: async (data) => void (await tx.webhookDelivery.createMany({ data: [...data] })),
});

/** The events' deliveries (inside their append's transaction), after telling the file sinks about them. */
export async function onAuditAppended(store: OutboxStore, rows: readonly AuditEventForSinks[]): Promise<void> {
  noteAuditSinks(rows);
  const orgIds = webhookOrgIds(rows);
  if (orgIds.length === 0) return;
  const hooks = await store.activeWebhooks(orgIds);
  if (hooks.length === 0) return;
  const data = webhookDeliveries(hooks, rows, new Date());
  if (data.length > 0) await store.insertDeliveries(data);
}

/** Tells the operator's file sinks about appended rows (they write them once they see them committed). */
export function noteAuditSinks(rows: readonly AuditEventForSinks[]): void {
  for (const sink of auditFileSinks) sink.note(rows);
}

/** The orgs whose active webhooks a batch of events needs: distinct, without "" (events of no org). */
export const webhookOrgIds = (rows: readonly { orgId: string }[]): string[] => [...new Set(rows.map((r) => r.orgId))].filter((o) => o !== "");

/** The deliveries of `rows` to the webhooks (of their orgs) that subscribe to them. */
export function webhookDeliveries(hooks: readonly { id: string; orgId: string; events: string }[], rows: readonly AuditEventForSinks[], now: Date): OutboxRow[] {
  const data: OutboxRow[] = [];
  for (const h of hooks) {
    const filters = new Set<string>(parseEventFilters(h.events));
    for (const r of rows) {
      if (r.orgId !== h.orgId) continue;
      for (const ev of eventsForAudit(r, filters)) data.push(outboxRow(h.id, ev, now));
    }
  }
  return data;
}
