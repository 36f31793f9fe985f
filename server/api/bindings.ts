import { createRoute } from "@hono/zod-openapi";
import {
  ZBinding,
  ZBindingList,
  ZBindingParams,
  ZCreateBindingRequest,
  ZExecuteRequest,
  ZExecuteResponse,
  ZUpdateBindingRequest,
} from "../../lib/contract/bindings";
import { problemResponses, ZIdParam } from "../../lib/contract/common";
import { executeBinding } from "../bindings/execute";
import { createBinding, deleteBinding, getBinding, listBindings, updateBinding } from "../bindings/service";
import { type ApiApp, ctxOf, requireAuth } from "../http/pipeline";

const json = <T>(schema: T) => ({ "application/json": { schema } });
const BINDINGS = "/v1/vaults/{id}/bindings";
const BINDING = "/v1/vaults/{id}/bindings/{binding_id}";
const tags = ["Bindings"];

const create = createRoute({
  method: "post",
  path: BINDINGS,
  tags,
  summary: "Create a credential-injecting binding (humans with write on its secret path; internal: owners and admins)",
  middleware: [requireAuth],
  request: { params: ZIdParam, body: { required: true, content: json(ZCreateBindingRequest) } },
  responses: { 201: { description: "Created", content: json(ZBinding) }, ...problemResponses(400, 401, 403, 404, 409, 413) },
});

const list = createRoute({
  method: "get",
  path: BINDINGS,
  tags,
  summary: "List a vault's bindings (an agent sees those whose secret path it may use)",
  middleware: [requireAuth],
  request: { params: ZIdParam },
  responses: { 200: { description: "Bindings", content: json(ZBindingList) }, ...problemResponses(400, 401, 403, 404) },
});

const get = createRoute({
  method: "get",
  path: BINDING,
  tags,
  summary: "One binding",
  middleware: [requireAuth],
  request: { params: ZBindingParams },
  responses: { 200: { description: "Binding", content: json(ZBinding) }, ...problemResponses(400, 401, 403, 404) },
});

const update = createRoute({
  method: "patch",
  path: BINDING,
  tags,
  summary: "Change a binding (humans with write on its secret path)",
  middleware: [requireAuth],
  request: { params: ZBindingParams, body: { required: true, content: json(ZUpdateBindingRequest) } },
  responses: { 200: { description: "Updated", content: json(ZBinding) }, ...problemResponses(400, 401, 403, 404, 409, 413) },
});

const remove = createRoute({
  method: "delete",
  path: BINDING,
  tags,
  summary: "Delete a binding",
  middleware: [requireAuth],
  request: { params: ZBindingParams },
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404) },
});

const execute = createRoute({
  method: "post",
  path: "/v1/agents/{id}/execute",
  tags,
  summary:
    "Make an HTTP request through a binding with its secret injected (the agent itself, holding use or read on the path); the answer comes back with every known secret value redacted. Request body up to 48 KiB, answer read up to 1 MiB, 15 s timeout, at most 3 redirects within the destination",
  middleware: [requireAuth],
  request: { params: ZIdParam, body: { required: true, content: json(ZExecuteRequest) } },
  responses: {
    200: { description: "The upstream's answer, redacted", content: json(ZExecuteResponse) },
    ...problemResponses(400, 401, 402, 403, 404, 409, 410, 413, 422, 502, 504),
  },
});

export function registerBindingRoutes(app: ApiApp) {
  app.openapi(create, async (c) => c.json(await createBinding(ctxOf(c), c.req.valid("param").id, c.req.valid("json")), 201));
  app.openapi(list, async (c) => c.json(await listBindings(ctxOf(c), c.req.valid("param").id), 200));
  app.openapi(get, async (c) => {
    const { id, binding_id } = c.req.valid("param");
    return c.json(await getBinding(ctxOf(c), id, binding_id), 200);
  });
  app.openapi(update, async (c) => {
    const { id, binding_id } = c.req.valid("param");
    return c.json(await updateBinding(ctxOf(c), id, binding_id, c.req.valid("json")), 200);
  });
  app.openapi(remove, async (c) => {
    const { id, binding_id } = c.req.valid("param");
    await deleteBinding(ctxOf(c), id, binding_id);
    return c.body(null, 204);
  });
  app.openapi(execute, async (c) => c.json(await executeBinding(ctxOf(c), c.req.valid("param").id, c.req.valid("json")), 200));
}
