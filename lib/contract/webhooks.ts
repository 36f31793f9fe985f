import { z } from "@hono/zod-openapi";
import { ZUuid } from "./common";

/**
 * Webhooks: an org's HTTP sinks for its audit events and secret changes. Deliveries are batched POSTs
 * signed with the webhook's secret (shown once, at creation); see docs/operations/webhooks.md.
 */
export const WEBHOOK_EVENTS = ["audit.*", "secret.updated", "secret.deleted", "secret.expiring", "secret.rotation_due"] as const;
export type WebhookEventFilter = (typeof WEBHOOK_EVENTS)[number];
export const WEBHOOKS_PER_ORG = 10;
const URL_MAX = 2048;

const ZEvents = z
  .array(z.enum(WEBHOOK_EVENTS))
  .min(1)
  .max(WEBHOOK_EVENTS.length)
  .refine((a) => new Set(a).size === a.length, "must not repeat an event")
  .openapi({
    description: "`audit.*` (every audit event of the organisation), `secret.updated`, `secret.deleted`, `secret.expiring` (7 days before a version's expires_at, once per version), `secret.rotation_due` (a rotation_policy interval has passed, once per due date)",
    example: ["audit.*", "secret.updated"],
  });

const ZUrl = z
  .string()
  .min(1)
  .max(URL_MAX)
  .openapi({ description: "https URL of the receiver (no credentials); checked again, with DNS, on every delivery", example: "https://siem.example.com/talon" });

export const ZCreateWebhookRequest = z
  .strictObject({
    url: ZUrl,
    events: ZEvents,
    description: z.string().max(500).default(""),
  })
  .openapi("CreateWebhookRequest");

export const ZUpdateWebhookRequest = z
  .strictObject({
    url: ZUrl.optional(),
    events: ZEvents.optional(),
    description: z.string().max(500).optional(),
    is_active: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, "must change at least one field")
  .openapi("UpdateWebhookRequest");

export const DELIVERY_STATES = ["pending", "delivered", "failed"] as const;

const ZLastDelivery = z
  .object({
    event_type: z.string(),
    state: z.enum(DELIVERY_STATES),
    attempts: z.number().int(),
    last_status: z.number().int().nullable(),
    last_error: z.string().nullable(),
    at: z.string(),
  })
  .nullable();

export const ZWebhookResponse = z
  .object({
    id: ZUuid,
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENTS)),
    description: z.string(),
    is_active: z.boolean(),
    created_by: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    pending_deliveries: z.number().int(),
    failed_deliveries: z.number().int(),
    last_delivery: ZLastDelivery,
  })
  .openapi("Webhook");

export const ZWebhookCreatedResponse = ZWebhookResponse.extend({
  secret: z.string().openapi({ description: "The signing secret (`whsec_…`), shown only in this response" }),
}).openapi("WebhookCreated");

export const ZWebhookList = z.object({ webhooks: z.array(ZWebhookResponse) }).openapi("WebhookList");

export const ZWebhookDelivery = z
  .object({
    id: ZUuid,
    event_id: z.string(),
    event_type: z.string(),
    state: z.enum(DELIVERY_STATES),
    attempts: z.number().int(),
    last_status: z.number().int().nullable(),
    last_error: z.string().nullable(),
    next_attempt_at: z.string().nullable(),
    delivered_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("WebhookDelivery");

export const ZWebhookDeliveryList = z.object({ deliveries: z.array(ZWebhookDelivery) }).openapi("WebhookDeliveryList");

export const ZWebhookTestResponse = z
  .object({
    delivered: z.boolean(),
    event_id: z.string(),
    status: z.number().int().nullable(),
    error: z.string().nullable(),
  })
  .openapi("WebhookTestResult");

export type CreateWebhookRequest = z.infer<typeof ZCreateWebhookRequest>;
export type UpdateWebhookRequest = z.infer<typeof ZUpdateWebhookRequest>;
export type WebhookResponse = z.infer<typeof ZWebhookResponse>;
export type WebhookCreatedResponse = z.infer<typeof ZWebhookCreatedResponse>;
export type WebhookDeliveryResponse = z.infer<typeof ZWebhookDelivery>;
export type WebhookTestResponse = z.infer<typeof ZWebhookTestResponse>;
