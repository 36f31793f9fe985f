import { createRoute } from "@hono/zod-openapi";
import { problemResponses, ZIdParam } from "../../lib/contract/common";
import { ZCreatePolicyRequest, ZPolicyListResponse, ZPolicyParams, ZPolicyResponse, ZUpdatePolicyRequest } from "../../lib/contract/policies";
import { createPolicy, deletePolicy, listPolicies, updatePolicy } from "../access/policies";
import { type ApiApp, ctxOf, requireAuth } from "../http/pipeline";

const json = <T>(schema: T) => ({ "application/json": { schema } });
const POLICIES = "/v1/vaults/{id}/policies";
const POLICY = "/v1/vaults/{id}/policies/{pid}";

const create = createRoute({
  method: "post",
  path: POLICIES,
  tags: ["Policies"],
  summary: "Grant a user or agent access to secret paths of a vault",
  middleware: [requireAuth],
  request: { params: ZIdParam, body: { required: true, content: json(ZCreatePolicyRequest) } },
  responses: { 201: { description: "Created", content: json(ZPolicyResponse) }, ...problemResponses(400, 401, 403, 404, 413) },
});

const list = createRoute({
  method: "get",
  path: POLICIES,
  tags: ["Policies"],
  summary: "List a vault's policies",
  middleware: [requireAuth],
  request: { params: ZIdParam },
  responses: { 200: { description: "Policies", content: json(ZPolicyListResponse) }, ...problemResponses(400, 401, 403, 404) },
});

const update = createRoute({
  method: "put",
  path: POLICY,
  tags: ["Policies"],
  summary: "Update a policy (permissions, conditions, expires_at, effect, priority)",
  middleware: [requireAuth],
  request: { params: ZPolicyParams, body: { required: true, content: json(ZUpdatePolicyRequest) } },
  responses: { 200: { description: "Updated", content: json(ZPolicyResponse) }, ...problemResponses(400, 401, 403, 404, 413) },
});

const remove = createRoute({
  method: "delete",
  path: POLICY,
  tags: ["Policies"],
  summary: "Revoke a policy",
  middleware: [requireAuth],
  request: { params: ZPolicyParams },
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404) },
});

export function registerPolicyRoutes(app: ApiApp) {
  app.openapi(create, async (c) => c.json(await createPolicy(ctxOf(c), { vaultId: c.req.valid("param").id, body: c.req.valid("json") }), 201));
  app.openapi(list, async (c) => c.json(await listPolicies(ctxOf(c), c.req.valid("param").id), 200));
  app.openapi(update, async (c) => {
    const { id, pid } = c.req.valid("param");
    return c.json(await updatePolicy(ctxOf(c), { vaultId: id, policyId: pid, body: c.req.valid("json") }), 200);
  });
  app.openapi(remove, async (c) => {
    const { id, pid } = c.req.valid("param");
    await deletePolicy(ctxOf(c), { vaultId: id, policyId: pid });
    return c.body(null, 204);
  });
}
