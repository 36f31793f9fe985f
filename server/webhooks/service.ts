import { randomUUID } from "node:crypto";
import type {
  CreateWebhookRequest,
  UpdateWebhookRequest,
  WebhookCreatedResponse,
  WebhookDeliveryResponse,
  WebhookResponse,
  WebhookTestResponse,
} from "../../lib/contract/webhooks";
import { WEBHOOKS_PER_ORG } from "../../lib/contract/webhooks";
import { appendAudit } from "../audit/chain";
import { auditRow } from "../audit/writer";
import type { Tx } from "../db";
import { ApiError } from "../http/errors";
import type { Ctx, UserCtx } from "../http/principal";
import { FAILED_AT, type SendOptions, sendSigned } from "./delivery";
import { eventIdFor, parseEventFilters } from "./events";
import { newSigningSecret, openSigningSecret, sealSigningSecret } from "./signing";
import { webhookUrlProblem } from "./ssrf";

/**
 * An org's webhooks, managed by its owners and admins; another org's webhook is 404. The signing
 * secret is generated here, returned once by create and stored only sealed; no other answer, log
 * line or audit event carries it. Audit events name the webhook and the URL's host only (a URL's
 * path or query may itself hold a token).
 */
type Row = {
  id: string;
  orgId: string;
  url: string;
  events: string;
  description: string;
  isActive: boolean;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
};

function requireManager(ctx: Ctx): UserCtx {
  const p = ctx.principal;
  if (p.kind !== "user" || (p.role !== "owner" && p.role !== "admin")) throw ApiError.forbidden("Only organisation owners and admins may manage webhooks");
  return ctx as UserCtx;
}

function checkUrl(ctx: Ctx, url: string) {
  const problem = webhookUrlProblem(url, ctx.rt.config.webhooks.allowPrivate);
  if (problem) throw ApiError.badRequest(`Invalid url: ${problem}`, [{ field: "url", message: problem }]);
}

const hostOf = (url: string) => new URL(url).host;

export const deliveryState = (d: { deliveredAt: Date | null; nextAttemptAt: Date }) =>
  d.deliveredAt ? ("delivered" as const) : d.nextAttemptAt.getTime() >= FAILED_AT.getTime() ? ("failed" as const) : ("pending" as const);

async function toResponse(ctx: Ctx, w: Row): Promise<WebhookResponse> {
  const db = ctx.rt.db;
  const [pending, failed, last] = await Promise.all([
    db.webhookDelivery.count({ where: { webhookId: w.id, deliveredAt: null, nextAttemptAt: { lt: FAILED_AT } } }),
    db.webhookDelivery.count({ where: { webhookId: w.id, deliveredAt: null, nextAttemptAt: FAILED_AT } }),
    db.webhookDelivery.findFirst({ where: { webhookId: w.id, attempts: { gt: 0 } }, orderBy: { createdAt: "desc" } }),
  ]);
  return {
    id: w.id,
    url: w.url,
    events: parseEventFilters(w.events),
    description: w.description,
    is_active: w.isActive,
    created_by: w.createdBy,
    created_at: w.createdAt.toISOString(),
    updated_at: w.updatedAt.toISOString(),
    pending_deliveries: pending,
    failed_deliveries: failed,
    last_delivery: last
      ? {
          event_type: last.eventType,
          state: deliveryState(last),
          attempts: last.attempts,
          last_status: last.lastStatus,
          last_error: last.lastError,
          at: (last.deliveredAt ?? last.createdAt).toISOString(),
        }
      : null,
  };
}

async function findOwn(ctx: Ctx, id: string) {
  const w = await ctx.rt.db.webhook.findFirst({ where: { id, orgId: ctx.principal.orgId } });
  if (!w) throw ApiError.notFound("Webhook not found");
  return w;
}

/** Serialises creations per org (the Org row's lock on PostgreSQL, the write lock on SQLite) so the count below holds. */
async function lockOrg(tx: Tx, orgId: string) {
  await tx.$executeRaw`UPDATE "Org" SET "id" = "id" WHERE "id" = ${orgId}`;
}

export async function createWebhook(anyCtx: Ctx, body: CreateWebhookRequest): Promise<WebhookCreatedResponse> {
  const ctx = requireManager(anyCtx);
  checkUrl(ctx, body.url);
  const id = randomUUID();
  const secret = newSigningSecret();
  // Sealed before the transaction: no HSM work while holding the org's lock.
  const sealed = await sealSigningSecret(ctx.rt.keystore, id, secret, await ctx.rt.vaultKeys.currentMasterKeyVersion());
  const orgId = ctx.principal.orgId;
  const row = await ctx.rt.db.$transaction(async (tx) => {
    await lockOrg(tx, orgId);
    if ((await tx.webhook.count({ where: { orgId } })) >= WEBHOOKS_PER_ORG) {
      throw ApiError.conflict(`An organisation may have at most ${WEBHOOKS_PER_ORG} webhooks; delete one first`);
    }
    const created = await tx.webhook.create({
      data: {
        id,
        orgId,
        url: body.url,
        events: JSON.stringify(body.events),
        sealedSecret: sealed,
        description: body.description,
        createdBy: `user:${ctx.principal.userId}`,
      },
    });
    await appendAudit(tx, auditRow(ctx, { action: "webhook.create", resourceType: "webhook", resourceId: id, details: { host: hostOf(body.url), events: body.events.join(",") } }));
    return created;
  });
  return { ...(await toResponse(ctx, row)), secret };
}

export async function listWebhooks(anyCtx: Ctx): Promise<{ webhooks: WebhookResponse[] }> {
  const ctx = requireManager(anyCtx);
  const rows = await ctx.rt.db.webhook.findMany({ where: { orgId: ctx.principal.orgId }, orderBy: { createdAt: "asc" } });
  return { webhooks: await Promise.all(rows.map((w) => toResponse(ctx, w))) };
}

export async function getWebhook(anyCtx: Ctx, id: string): Promise<WebhookResponse> {
  const ctx = requireManager(anyCtx);
  return toResponse(ctx, await findOwn(ctx, id));
}

export async function updateWebhook(anyCtx: Ctx, id: string, body: UpdateWebhookRequest): Promise<WebhookResponse> {
  const ctx = requireManager(anyCtx);
  if (body.url !== undefined) checkUrl(ctx, body.url);
  const row = await ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.webhook.updateMany({
      where: { id, orgId: ctx.principal.orgId },
      data: {
        ...(body.url !== undefined ? { url: body.url } : {}),
        ...(body.events !== undefined ? { events: JSON.stringify(body.events) } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.is_active !== undefined ? { isActive: body.is_active } : {}),
      },
    });
    if (count === 0) throw ApiError.notFound("Webhook not found");
    const changed = Object.keys(body).sort().join(",");
    await appendAudit(tx, auditRow(ctx, { action: "webhook.update", resourceType: "webhook", resourceId: id, details: { changed } }));
    return tx.webhook.findUniqueOrThrow({ where: { id } });
  });
  return toResponse(ctx, row);
}

/** Deletes the webhook and its outbox rows (pending ones are not sent). */
export async function deleteWebhook(anyCtx: Ctx, id: string): Promise<void> {
  const ctx = requireManager(anyCtx);
  await ctx.rt.db.$transaction(async (tx) => {
    // The audit event first: appending takes the org's audit-chain lock, which every audit batch holds
    // while it reads the org's webhooks and writes their outbox rows. So a batch either commits its
    // deliveries before this delete (and they go with it) or no longer sees the webhook — never an
    // outbox row pointing at a webhook deleted under it, which would fail that batch's transaction.
    await appendAudit(tx, auditRow(ctx, { action: "webhook.delete", resourceType: "webhook", resourceId: id }));
    const { count } = await tx.webhook.deleteMany({ where: { id, orgId: ctx.principal.orgId } });
    if (count === 0) throw ApiError.notFound("Webhook not found"); // rolls the audit event back
  });
}

export async function listDeliveries(anyCtx: Ctx, id: string): Promise<{ deliveries: WebhookDeliveryResponse[] }> {
  const ctx = requireManager(anyCtx);
  await findOwn(ctx, id);
  const rows = await ctx.rt.db.webhookDelivery.findMany({ where: { webhookId: id }, orderBy: { createdAt: "desc" }, take: 100 });
  return {
    deliveries: rows.map((d) => {
      const state = deliveryState(d);
      return {
        id: d.id,
        event_id: d.eventId,
        event_type: d.eventType,
        state,
        attempts: d.attempts,
        last_status: d.lastStatus,
        last_error: d.lastError,
        next_attempt_at: state === "pending" ? d.nextAttemptAt.toISOString() : null,
        delivered_at: d.deliveredAt?.toISOString() ?? null,
        created_at: d.createdAt.toISOString(),
      };
    }),
  };
}

/** Sends one `webhook.test` event now (not through the outbox) and reports what the receiver answered. */
export async function testWebhook(anyCtx: Ctx, id: string, opts: SendOptions = {}): Promise<WebhookTestResponse> {
  const ctx = requireManager(anyCtx);
  const w = await findOwn(ctx, id);
  const eventId = eventIdFor("webhook.test", randomUUID());
  const event = { id: eventId, type: "webhook.test", created_at: new Date().toISOString(), org_id: w.orgId, data: { webhook_id: w.id } };
  const secret = await openSigningSecret(ctx.rt.keystore, w.id, w.sealedSecret);
  const out = await sendSigned(ctx.rt, { id: w.id, url: w.url, secret }, [JSON.stringify(event)], opts);
  await ctx.rt.audit.record(ctx, { action: "webhook.test", resourceType: "webhook", resourceId: w.id, details: { delivered: out.ok, status: out.status } });
  return { delivered: out.ok, event_id: eventId, status: out.status, error: out.error };
}
