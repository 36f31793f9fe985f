import { createRoute, z } from "@hono/zod-openapi";
import { ZAuditEventList, ZAuditExportQuery, ZAuditExportRecord, ZAuditQuery, ZAuditVerifyQuery, ZAuditVerifyResponse } from "../../lib/contract/audit";
import { problemResponses } from "../../lib/contract/common";
import { exportAuditEvents } from "../audit/export";
import { queryAuditEvents } from "../audit/service";
import { verifyAuditChain } from "../audit/verify";
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
  summary:
    "Verify the organisation's audit hash chain (owners and admins; metered; one at a time per org). Incremental from the signed checkpoint, at most `limit` events per call; `full=true` (owners) recomputes from the first event",
  middleware: [requireAuth],
  request: { query: ZAuditVerifyQuery },
  responses: { 200: { description: "Verification result", content: json(ZAuditVerifyResponse) }, ...problemResponses(400, 401, 402, 403, 409) },
});

const exportEvents = createRoute({
  method: "get",
  path: "/v1/audit/export",
  tags: ["Audit"],
  summary:
    "Export the organisation's audit events oldest first, streamed as NDJSON or CSV, with the hash-chain fields (seq, prev_hash, hash) and every hashed field so a SIEM can verify the chain (owners and admins; recorded as an audit.export event)",
  middleware: [requireAuth],
  request: { query: ZAuditExportQuery },
  responses: {
    200: {
      description:
        "One event per line (NDJSON objects, or CSV rows after a header row) with the fields of AuditExportRecord. CSV cells starting with = + - @ tab CR or ' carry a leading ' (drop one to get the value back)",
      content: { "application/x-ndjson": { schema: ZAuditExportRecord }, "text/csv": { schema: z.string() } },
    },
    ...problemResponses(400, 401, 403),
  },
});

export function registerAuditRoutes(app: ApiApp) {
  app.openapi(events, async (c) => c.json(await queryAuditEvents(ctxOf(c), c.req.valid("query")), 200));
  app.openapi(verify, async (c) => {
    const q = c.req.valid("query");
    return c.json(await verifyAuditChain(ctxOf(c), { full: q.full === "true", limit: q.limit }), 200);
  });
  app.openapi(exportEvents, async (c) => {
    const out = await exportAuditEvents(ctxOf(c), c.req.valid("query"));
    return c.body(out.body, 200, { "Content-Type": out.contentType, "Content-Disposition": `attachment; filename="${out.filename}"` });
  });
}
