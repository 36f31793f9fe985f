import { createRoute } from "@hono/zod-openapi";
import { ZAgent, ZAgentListResponse, ZAgentSelf, ZCreateAgentRequest, ZCreateAgentResponse, ZRotateAgentKeyResponse, ZUpdateAgentRequest } from "../../lib/contract/agents";
import { problemResponses, ZIdParam } from "../../lib/contract/common";
import { createAgent, deleteAgent, getAgent, getAgentSelf, listAgents, rotateAgentKey, updateAgent } from "../agents/service";
import { type ApiApp, ctxOf, requireAuth } from "../http/pipeline";

const json = <T>(schema: T) => ({ "application/json": { schema } });

const create = createRoute({
  method: "post",
  path: "/v1/agents",
  tags: ["Agents"],
  summary: "Register an agent (humans signed in interactively, not with a personal API key); an api_key agent's `ocv_` key is shown once",
  middleware: [requireAuth],
  request: { body: { required: true, content: json(ZCreateAgentRequest) } },
  responses: { 201: { description: "Created", content: json(ZCreateAgentResponse) }, ...problemResponses(400, 401, 403, 413) },
});

const list = createRoute({
  method: "get",
  path: "/v1/agents",
  tags: ["Agents"],
  summary: "List the organisation's agents (humans only)",
  middleware: [requireAuth],
  responses: { 200: { description: "Agents", content: json(ZAgentListResponse) }, ...problemResponses(401, 403) },
});

const me = createRoute({
  method: "get",
  path: "/v1/agents/me",
  tags: ["Agents"],
  summary: "The calling agent",
  middleware: [requireAuth],
  responses: { 200: { description: "Agent", content: json(ZAgentSelf) }, ...problemResponses(401, 403) },
});

const get = createRoute({
  method: "get",
  path: "/v1/agents/{id}",
  tags: ["Agents"],
  summary: "Get an agent",
  middleware: [requireAuth],
  request: { params: ZIdParam },
  responses: { 200: { description: "Agent", content: json(ZAgent) }, ...problemResponses(400, 401, 403, 404) },
});

const update = createRoute({
  method: "patch",
  path: "/v1/agents/{id}",
  tags: ["Agents"],
  summary: "Update an agent: flags, guardrails, scopes, binding, reactivation; owners and admins reassign it with created_by (humans only)",
  middleware: [requireAuth],
  request: { params: ZIdParam, body: { required: true, content: json(ZUpdateAgentRequest) } },
  responses: { 200: { description: "Updated", content: json(ZAgent) }, ...problemResponses(400, 401, 403, 404, 413) },
});

const remove = createRoute({
  method: "delete",
  path: "/v1/agents/{id}",
  tags: ["Agents"],
  summary: "Delete an agent; its key and tokens fail from the next request on",
  middleware: [requireAuth],
  request: { params: ZIdParam },
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404) },
});

const rotate = createRoute({
  method: "post",
  path: "/v1/agents/{id}/rotate-key",
  tags: ["Agents"],
  summary: "Replace an api_key agent's `ocv_` key (interactive sign-in only); the old key and its tokens die at once",
  middleware: [requireAuth],
  request: { params: ZIdParam },
  responses: { 200: { description: "The new key, shown once", content: json(ZRotateAgentKeyResponse) }, ...problemResponses(400, 401, 403, 404) },
});

export function registerAgentRoutes(app: ApiApp) {
  app.openapi(create, async (c) => c.json(await createAgent(ctxOf(c), c.req.valid("json")), 201));
  app.openapi(list, async (c) => c.json(await listAgents(ctxOf(c)), 200));
  // Before `/v1/agents/{id}`, which would otherwise claim "me" (and refuse it as a non-uuid).
  app.openapi(me, async (c) => c.json(await getAgentSelf(ctxOf(c)), 200));
  app.openapi(get, async (c) => c.json(await getAgent(ctxOf(c), c.req.valid("param").id), 200));
  app.openapi(update, async (c) => c.json(await updateAgent(ctxOf(c), c.req.valid("param").id, c.req.valid("json")), 200));
  app.openapi(remove, async (c) => {
    await deleteAgent(ctxOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
  app.openapi(rotate, async (c) => c.json(await rotateAgentKey(ctxOf(c), c.req.valid("param").id), 200));
}
