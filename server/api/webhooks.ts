import { createRoute } from "@hono/zod-openapi";
import { problemResponses, ZIdParam } from "../../lib/contract/common";
import {
  ZCreateWebhookRequest,
  ZUpdateWebhookRequest,
  ZWebhookCreatedResponse,
  ZWebhookDeliveryList,
  ZWebhookList,
  ZWebhookResponse,
  ZWebhookTestResponse,
} from "../../lib/contract/webhooks";
import { type ApiApp, ctxOf, requireAuth } from "../http/pipeline";
import { createWebhook, deleteWebhook, getWebhook, listDeliveries, listWebhooks, testWebhook, updateWebhook } from "../webhooks/service";

const json = <T>(schema: T) => ({ "application/json": { schema } });
const WEBHOOKS = "/v1/webhooks";
const WEBHOOK = "/v1/webhooks/{id}";
const tags = ["Webhooks"];

const create = createRoute({
  method: "post",
  path: WEBHOOKS,
  tags,
  summary: "Create a webhook (owners and admins); the signing secret is in this answer only",
  middleware: [requireAuth],
  request: { body: { required: true, content: json(ZCreateWebhookRequest) } },
  responses: { 201: { description: "Created", content: json(ZWebhookCreatedResponse) }, ...problemResponses(400, 401, 403, 409, 413) },
});

const list = createRoute({
  method: "get",
  path: WEBHOOKS,
  tags,
  summary: "List the organisation's webhooks with their delivery state (owners and admins)",
  middleware: [requireAuth],
  responses: { 200: { description: "Webhooks", content: json(ZWebhookList) }, ...problemResponses(401, 403) },
});

const get = createRoute({
  method: "get",
  path: WEBHOOK,
  tags,
  summary: "One webhook with its delivery state",
  middleware: [requireAuth],
  request: { params: ZIdParam },
  responses: { 200: { description: "Webhook", content: json(ZWebhookResponse) }, ...problemResponses(400, 401, 403, 404) },
});

const update = createRoute({
  method: "patch",
  path: WEBHOOK,
  tags,
  summary: "Change a webhook's url, events, description or is_active",
  middleware: [requireAuth],
  request: { params: ZIdParam, body: { required: true, content: json(ZUpdateWebhookRequest) } },
  responses: { 200: { description: "Updated", content: json(ZWebhookResponse) }, ...problemResponses(400, 401, 403, 404, 413) },
});

const remove = createRoute({
  method: "delete",
  path: WEBHOOK,
  tags,
  summary: "Delete a webhook and its undelivered events",
  middleware: [requireAuth],
  request: { params: ZIdParam },
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404) },
});

const deliveries = createRoute({
  method: "get",
  path: "/v1/webhooks/{id}/deliveries",
  tags,
  summary: "The webhook's latest 100 deliveries: pending, delivered or failed (gave up after the last attempt)",
  middleware: [requireAuth],
  request: { params: ZIdParam },
  responses: { 200: { description: "Deliveries, newest first", content: json(ZWebhookDeliveryList) }, ...problemResponses(400, 401, 403, 404) },
});

const test = createRoute({
  method: "post",
  path: "/v1/webhooks/{id}/test",
  tags,
  summary: "Send a signed webhook.test event now and report the receiver's answer",
  middleware: [requireAuth],
  request: { params: ZIdParam },
  responses: { 200: { description: "What the receiver answered", content: json(ZWebhookTestResponse) }, ...problemResponses(400, 401, 403, 404) },
});

export function registerWebhookRoutes(app: ApiApp) {
  app.openapi(create, async (c) => c.json(await createWebhook(ctxOf(c), c.req.valid("json")), 201));
  app.openapi(list, async (c) => c.json(await listWebhooks(ctxOf(c)), 200));
  app.openapi(get, async (c) => c.json(await getWebhook(ctxOf(c), c.req.valid("param").id), 200));
  app.openapi(update, async (c) => c.json(await updateWebhook(ctxOf(c), c.req.valid("param").id, c.req.valid("json")), 200));
  app.openapi(remove, async (c) => {
    await deleteWebhook(ctxOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
  app.openapi(deliveries, async (c) => c.json(await listDeliveries(ctxOf(c), c.req.valid("param").id), 200));
  app.openapi(test, async (c) => c.json(await testWebhook(ctxOf(c), c.req.valid("param").id), 200));
}
