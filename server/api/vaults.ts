import { createRoute } from "@hono/zod-openapi";
import { problemResponses, ZIdParam } from "../../lib/contract/common";
import { ZCreateVaultRequest, ZVaultListResponse, ZVaultResponse } from "../../lib/contract/vaults";
import { type ApiApp, ctxOf, requireAuth } from "../http/pipeline";
import { createVault, deleteVault, getVault, listVaults } from "../vaults/service";

const json = <T>(schema: T) => ({ "application/json": { schema } });

const create = createRoute({
  method: "post",
  path: "/v1/vaults",
  tags: ["Vaults"],
  summary: "Create a vault (names starting with `__` are reserved: 409)",
  middleware: [requireAuth],
  request: { body: { required: true, content: json(ZCreateVaultRequest) } },
  responses: { 201: { description: "Created", content: json(ZVaultResponse) }, ...problemResponses(400, 401, 409, 413) },
});

const list = createRoute({
  method: "get",
  path: "/v1/vaults",
  tags: ["Vaults"],
  summary: "List the organisation's vaults (Talon's system vault `__agent-keys` is never listed)",
  middleware: [requireAuth],
  responses: { 200: { description: "Vaults", content: json(ZVaultListResponse) }, ...problemResponses(401) },
});

const get = createRoute({
  method: "get",
  path: "/v1/vaults/{id}",
  tags: ["Vaults"],
  summary: "Get a vault",
  middleware: [requireAuth],
  request: { params: ZIdParam },
  responses: { 200: { description: "Vault", content: json(ZVaultResponse) }, ...problemResponses(400, 401, 404) },
});

const remove = createRoute({
  method: "delete",
  path: "/v1/vaults/{id}",
  tags: ["Vaults"],
  summary: "Delete a vault, its secrets and its data key (never the system vault: 403)",
  middleware: [requireAuth],
  request: { params: ZIdParam },
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404) },
});

export function registerVaultRoutes(app: ApiApp) {
  app.openapi(create, async (c) => c.json(await createVault(ctxOf(c), c.req.valid("json")), 201));
  app.openapi(list, async (c) => c.json(await listVaults(ctxOf(c)), 200));
  app.openapi(get, async (c) => c.json(await getVault(ctxOf(c), c.req.valid("param").id), 200));
  app.openapi(remove, async (c) => {
    await deleteVault(ctxOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
}
