import type { Runtime } from "../runtime";
import { eventIdFor, parseEventFilters, type WebhookEvent } from "./events";
import { outboxRow } from "./outbox";

/**
 * `secret.expiring`: a periodic scan finds versions whose `expires_at` falls within the next 7 days
 * and writes one outbox row per (webhook, version). The event id comes from the version id and the
 * outbox is unique on (webhook, event id), so however often the scan runs, and on however many
 * instances, each version is announced once per webhook.
 */
export const EXPIRY_NOTICE_MS = 7 * 86_400_000;

function isUniqueViolation(e: unknown) {
  return (e as { code?: string }).code === "P2002";
}

/** One scan; returns how many outbox rows it wrote. */
export async function scanExpiringSecrets(rt: Runtime, now = new Date()): Promise<number> {
  const hooks = (await rt.db.webhook.findMany({ where: { isActive: true }, select: { id: true, orgId: true, events: true } })).filter((h) =>
    parseEventFilters(h.events).includes("secret.expiring"),
  );
  if (hooks.length === 0) return 0;
  const orgIds = [...new Set(hooks.map((h) => h.orgId))];
  const versions = await rt.db.secretVersion.findMany({
    where: {
      expiresAt: { gt: now, lte: new Date(now.getTime() + EXPIRY_NOTICE_MS) },
      isDisabled: false,
      secret: { deletedAt: null, vault: { orgId: { in: orgIds } } },
    },
    select: { id: true, version: true, expiresAt: true, secret: { select: { id: true, path: true, vault: { select: { id: true, orgId: true } } } } },
    take: 10_000,
  });
  let written = 0;
  for (const v of versions) {
    const orgId = v.secret.vault.orgId;
    const ev: WebhookEvent = {
      id: eventIdFor("secret.expiring", v.id),
      type: "secret.expiring",
      created_at: now.toISOString(),
      org_id: orgId,
      data: { secret_id: v.secret.id, vault_id: v.secret.vault.id, path: v.secret.path, version: v.version, expires_at: v.expiresAt!.toISOString() },
    };
    for (const h of hooks) {
      if (h.orgId !== orgId) continue;
      const exists = await rt.db.webhookDelivery.findUnique({ where: { webhookId_eventId: { webhookId: h.id, eventId: ev.id } }, select: { id: true } });
      if (exists) continue;
      try {
        await rt.db.webhookDelivery.create({ data: outboxRow(h.id, ev, now) });
        written++;
      } catch (e) {
        // Another instance's scan wrote it first.
        if (!isUniqueViolation(e)) throw e;
      }
    }
  }
  return written;
}
