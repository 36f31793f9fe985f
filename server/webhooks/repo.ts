import type { HotTx } from "../db/hot";
import type { OutboxStore } from "./outbox";

const ACTIVE_FOR_ORG = `SELECT id AS "id", "orgId" AS "orgId", events AS "events" FROM "Webhook" WHERE "orgId" = $1 AND "isActive" = $2`;
const INSERT_DELIVERY = `INSERT INTO "WebhookDelivery" (id, "webhookId", "eventId", "eventType", payload, attempts, "nextAttemptAt", "createdAt")
  VALUES ($1, $2, $3, $4, $5, 0, $6, $7)`;

/** The outbox on a driver transaction (server/db/hot.ts): one indexed lookup per org, one prepared insert per delivery. */
export function hotOutbox(tx: HotTx): OutboxStore {
  return {
    async activeWebhooks(orgIds) {
      const hooks = [];
      for (const orgId of orgIds) {
        for (const r of await tx.all("webhooks.activeForOrg", ACTIVE_FOR_ORG, [orgId, true])) {
          hooks.push({ id: String(r.id), orgId: String(r.orgId), events: String(r.events) });
        }
      }
      return hooks;
    },
    async insertDeliveries(rows) {
      for (const d of rows) {
        await tx.run("webhooks.insertDelivery", INSERT_DELIVERY, [d.id, d.webhookId, d.eventId, d.eventType, d.payload, d.nextAttemptAt, d.createdAt]);
      }
    },
  };
}
