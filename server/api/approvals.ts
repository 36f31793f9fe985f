import { createRoute } from "@hono/zod-openapi";
import { ZApprovalListQuery, ZApprovalListResponse, ZApprovalResponse, ZApproveRequest, ZBreakGlassRequest, ZDenyRequest } from "../../lib/contract/approvals";
import { problemResponses, ZIdParam } from "../../lib/contract/common";
import { approveApproval, breakGlass, denyApproval, getApproval, listApprovals } from "../approvals/service";
import { type ApiApp, ctxOf, requireAuth } from "../http/pipeline";

const json = <T>(schema: T) => ({ "application/json": { schema } });
const tags = ["Approvals"];

const list = createRoute({
  method: "get",
  path: "/v1/approvals",
  tags,
  summary: "Approval requests the caller may see (owners and admins: the org's; members: their vaults' and their own; an agent: its own)",
  middleware: [requireAuth],
  request: { query: ZApprovalListQuery },
  responses: { 200: { description: "Approval requests, newest first", content: json(ZApprovalListResponse) }, ...problemResponses(400, 401, 403) },
});

const get = createRoute({
  method: "get",
  path: "/v1/approvals/{id}",
  tags,
  summary: "One approval request (the requesting agent polls its own)",
  middleware: [requireAuth],
  request: { params: ZIdParam },
  responses: { 200: { description: "Approval request", content: json(ZApprovalResponse) }, ...problemResponses(400, 401, 403, 404) },
});

const approve = createRoute({
  method: "post",
  path: "/v1/approvals/{id}/approve",
  tags,
  summary: "Approve a pending request, once or for duration_seconds (an owner/admin or the vault's creator; not the requester)",
  middleware: [requireAuth],
  request: { params: ZIdParam, body: { required: false, content: json(ZApproveRequest) } },
  responses: { 200: { description: "Approved", content: json(ZApprovalResponse) }, ...problemResponses(400, 401, 403, 404, 409, 413) },
});

const deny = createRoute({
  method: "post",
  path: "/v1/approvals/{id}/deny",
  tags,
  summary: "Deny a pending request (an owner/admin or the vault's creator; not the requester)",
  middleware: [requireAuth],
  request: { params: ZIdParam, body: { required: false, content: json(ZDenyRequest) } },
  responses: { 200: { description: "Denied", content: json(ZApprovalResponse) }, ...problemResponses(400, 401, 403, 404, 409, 413) },
});

const glass = createRoute({
  method: "post",
  path: "/v1/vaults/{id}/break-glass",
  tags,
  summary: "Break glass: time-boxed access to a vault past its deny policies, with a mandatory reason (owners and admins; audited and mailed to the other owners)",
  middleware: [requireAuth],
  request: { params: ZIdParam, body: { required: true, content: json(ZBreakGlassRequest) } },
  responses: { 201: { description: "Break-glass window opened", content: json(ZApprovalResponse) }, ...problemResponses(400, 401, 403, 404, 413) },
});

export function registerApprovalRoutes(app: ApiApp) {
  app.openapi(list, async (c) => c.json(await listApprovals(ctxOf(c), c.req.valid("query")), 200));
  app.openapi(get, async (c) => c.json(await getApproval(ctxOf(c), c.req.valid("param").id), 200));
  app.openapi(approve, async (c) => c.json(await approveApproval(ctxOf(c), c.req.valid("param").id, c.req.valid("json") ?? {}), 200));
  app.openapi(deny, async (c) => c.json(await denyApproval(ctxOf(c), c.req.valid("param").id, c.req.valid("json") ?? {}), 200));
  app.openapi(glass, async (c) => c.json(await breakGlass(ctxOf(c), c.req.valid("param").id, c.req.valid("json")), 201));
}
