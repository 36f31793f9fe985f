import { createRoute } from "@hono/zod-openapi";
import { ZAuditEventList, ZAuditQuery, ZAuditVerifyResponse } from "../../lib/contract/audit";
import { problemResponses } from "../../lib/contract/common";
import { queryAuditEvents, verifyAuditChain } from "../audit/service";
import { type ApiApp, ctxOf, requireAuth } from "../http/pipeline";

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

const verify = createRoute({
  method: "get",
  path: "/v1/audit/verify",
  tags: ["Audit"],
  summary: "Recompute the organisation's audit hash chain",
  middleware: [requireAuth],
  responses: { 200: { description: "Verification result", content: json(ZAuditVerifyResponse) }, ...problemResponses(401) },
});

export function registerAuditRoutes(app: ApiApp) {
  app.openapi(events, async (c) => c.json(await queryAuditEvents(ctxOf(c), c.req.valid("query")), 200));
  app.openapi(verify, async (c) => c.json(await verifyAuditChain(ctxOf(c)), 200));
}
