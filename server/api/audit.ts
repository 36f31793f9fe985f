import { createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { ZAuditEventList, ZAuditQuery, ZAuditVerifyQuery, ZAuditVerifyResponse } from "../../lib/contract/audit";
import { problemResponses } from "../../lib/contract/common";
import { queryAuditEvents } from "../audit/service";
import { verifyAuditChain } from "../audit/verify";
import { meterFor } from "../billing/metering";
import { type ApiApp, type ApiEnv, ctxOf, requireAuth } from "../http/pipeline";

const json = <T>(schema: T) => ({ "application/json": { schema } });

const events = createRoute({
  method: "get",
  path: "/v1/audit/events",
  tags: ["Audit"],
  summary: "Query the organisation's audit events (owners and admins: all; others: their own)",
  middleware: [requireAuth],
  request: { query: ZAuditQuery },
  responses: { 200: { description: "Events, newest first", content: json(ZAuditEventList) }, ...problemResponses(400, 401) },
});

/**
 * The audit group is free of quota, but verification reads the org's log and is the one audit route a
 * caller could use to load the instance: it counts against the org's monthly quota like any metered
 * route (402 when none is left; the quota headers on every answer).
 */
const meterVerification: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const meter = meterFor(c.get("rt"));
  const reading = await meter.draw(c.get("principal").orgId);
  for (const [name, value] of Object.entries(meter.headersOf(reading))) c.header(name, value);
  await next();
};

const verify = createRoute({
  method: "get",
  path: "/v1/audit/verify",
  tags: ["Audit"],
  summary:
    "Verify the organisation's audit hash chain (owners and admins; metered; one at a time per org). Incremental from the signed checkpoint, at most `limit` events per call; `full=true` (owners) recomputes from the first event",
  middleware: [requireAuth, meterVerification],
  request: { query: ZAuditVerifyQuery },
  responses: { 200: { description: "Verification result", content: json(ZAuditVerifyResponse) }, ...problemResponses(400, 401, 402, 403, 409) },
});

export function registerAuditRoutes(app: ApiApp) {
  app.openapi(events, async (c) => c.json(await queryAuditEvents(ctxOf(c), c.req.valid("query")), 200));
  app.openapi(verify, async (c) => {
    const q = c.req.valid("query");
    return c.json(await verifyAuditChain(ctxOf(c), { full: q.full === "true", limit: q.limit }), 200);
  });
}
