import { createRoute } from "@hono/zod-openapi";
import { problemResponses } from "../../lib/contract/common";
import { ZCreateIpRuleRequest, ZIpRule, ZIpRuleForceQuery, ZIpRuleListResponse, ZRuleIdParam } from "../../lib/contract/security";
import { type ApiApp, ctxOf, requireAuth } from "../http/pipeline";
import { createIpRule, deleteIpRule, listIpRules } from "../security/ip-rules";

const json = <T>(schema: T) => ({ "application/json": { schema } });

const list = createRoute({
  method: "get",
  path: "/v1/security/ip-rules",
  tags: ["Security"],
  summary: "List the organisation's IP allow/deny rules (owners and admins)",
  middleware: [requireAuth],
  responses: { 200: { description: "Rules", content: json(ZIpRuleListResponse) }, ...problemResponses(401, 403, 429) },
});

const create = createRoute({
  method: "post",
  path: "/v1/security/ip-rules",
  tags: ["Security"],
  summary: "Add an IP rule: deny wins; once any allow rule exists, only listed networks get in",
  description:
    "Applies to every authenticated request of the organisation, users and agents alike. A rule that would block the caller's own current address is refused with 400 unless `?force=true`.",
  middleware: [requireAuth],
  request: { query: ZIpRuleForceQuery, body: { required: true, content: json(ZCreateIpRuleRequest) } },
  responses: { 201: { description: "Created", content: json(ZIpRule) }, ...problemResponses(400, 401, 403, 409, 413, 429) },
});

const remove = createRoute({
  method: "delete",
  path: "/v1/security/ip-rules/{rule_id}",
  tags: ["Security"],
  summary: "Delete an IP rule",
  description: "Refused with 400 when it would leave the caller's current address blocked, unless `?force=true`.",
  middleware: [requireAuth],
  request: { params: ZRuleIdParam, query: ZIpRuleForceQuery },
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404, 429) },
});

export function registerSecurityRoutes(app: ApiApp) {
  app.openapi(list, async (c) => c.json(await listIpRules(ctxOf(c)), 200));
  app.openapi(create, async (c) => c.json(await createIpRule(ctxOf(c), c.req.valid("json"), c.req.valid("query").force === "true"), 201));
  app.openapi(remove, async (c) => {
    await deleteIpRule(ctxOf(c), c.req.valid("param").rule_id, c.req.valid("query").force === "true");
    return c.body(null, 204);
  });
}
