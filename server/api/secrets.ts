import { createRoute } from "@hono/zod-openapi";
import { problemResponses, ZIdParam } from "../../lib/contract/common";
import {
  ZListSecretsQuery,
  ZPutSecretRequest,
  ZPutSecretResponse,
  ZRotateSecretRequest,
  ZRotateSecretResponse,
  ZSecretListResponse,
  ZSecretParams,
  ZSecretResponse,
  ZSecretVersionParams,
  ZSecretVersionsResponse,
} from "../../lib/contract/secrets";
import { type ApiApp, ctxOf, requireAuth } from "../http/pipeline";
import {
  deleteSecret,
  disableSecretVersion,
  listSecrets,
  listSecretVersions,
  putSecret,
  readSecret,
  rotateSecret,
} from "../secrets/service";

/*
 * `{path}` may contain slashes, so it is matched with `{path{.+}}`; operations other than the basic
 * four use their own prefix (secret-versions/, secret-version/, …) rather than a suffix after the path.
 * Every route validates the path with ZSecretPath, reads included.
 */
const json = <T>(schema: T) => ({ "application/json": { schema } });
const SECRET = "/v1/vaults/{id}/secrets/{path{.+}}";
const VERSION = "{path{.+}}/{version{[0-9]+}}";
const auth = [requireAuth];

const put = createRoute({
  method: "put",
  path: SECRET,
  tags: ["Secrets"],
  summary: "Store a new version of a secret",
  middleware: auth,
  request: { params: ZSecretParams, body: { required: true, content: json(ZPutSecretRequest) } },
  responses: { 201: { description: "Stored", content: json(ZPutSecretResponse) }, ...problemResponses(400, 401, 403, 404, 409, 413) },
});

const get = createRoute({
  method: "get",
  path: SECRET,
  tags: ["Secrets"],
  summary: "Read a secret's current value",
  middleware: auth,
  request: { params: ZSecretParams },
  responses: { 200: { description: "Secret", content: json(ZSecretResponse) }, ...problemResponses(400, 401, 403, 404, 410) },
});

const remove = createRoute({
  method: "delete",
  path: SECRET,
  tags: ["Secrets"],
  summary: "Soft-delete a secret (every version)",
  middleware: auth,
  request: { params: ZSecretParams },
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404, 410) },
});

const list = createRoute({
  method: "get",
  path: "/v1/vaults/{id}/secrets",
  tags: ["Secrets"],
  summary: "List secrets (latest version's metadata, never values)",
  middleware: auth,
  request: { params: ZIdParam, query: ZListSecretsQuery },
  responses: { 200: { description: "Secrets", content: json(ZSecretListResponse) }, ...problemResponses(400, 401, 403, 404) },
});

const versions = createRoute({
  method: "get",
  path: "/v1/vaults/{id}/secret-versions/{path{.+}}",
  tags: ["Secrets"],
  summary: "List a secret's versions (metadata only)",
  middleware: auth,
  request: { params: ZSecretParams },
  responses: { 200: { description: "Versions", content: json(ZSecretVersionsResponse) }, ...problemResponses(400, 401, 403, 404, 410) },
});

const getVersion = createRoute({
  method: "get",
  path: `/v1/vaults/{id}/secret-version/${VERSION}`,
  tags: ["Secrets"],
  summary: "Read one version of a secret",
  middleware: auth,
  request: { params: ZSecretVersionParams },
  responses: { 200: { description: "Secret version", content: json(ZSecretResponse) }, ...problemResponses(400, 401, 403, 404, 410) },
});

const disableVersion = createRoute({
  method: "post",
  path: `/v1/vaults/{id}/secret-version-disable/${VERSION}`,
  tags: ["Secrets"],
  summary: "Disable one version (its reads answer 410)",
  middleware: auth,
  request: { params: ZSecretVersionParams },
  responses: { 204: { description: "Disabled" }, ...problemResponses(400, 401, 403, 404, 410) },
});

const rotate = createRoute({
  method: "post",
  path: "/v1/vaults/{id}/secret-rotate/{path{.+}}",
  tags: ["Secrets"],
  summary: "Store a new version with a server-generated value (returned once)",
  middleware: auth,
  request: { params: ZSecretParams, body: { required: false, content: json(ZRotateSecretRequest) } },
  responses: { 201: { description: "Rotated", content: json(ZRotateSecretResponse) }, ...problemResponses(400, 401, 403, 404, 409, 410, 413) },
});

export function registerSecretRoutes(app: ApiApp) {
  app.openapi(list, async (c) => {
    const { prefix, rotation_due } = c.req.valid("query");
    return c.json(await listSecrets(ctxOf(c), { vaultId: c.req.valid("param").id, prefix, ...(rotation_due ? { rotationDue: rotation_due === "true" } : {}) }), 200);
  });
  app.openapi(put, async (c) => {
    const { id, path } = c.req.valid("param");
    return c.json(await putSecret(ctxOf(c), { vaultId: id, path, body: c.req.valid("json") }), 201);
  });
  app.openapi(get, async (c) => {
    const { id, path } = c.req.valid("param");
    return c.json(await readSecret(ctxOf(c), { vaultId: id, path }), 200);
  });
  app.openapi(remove, async (c) => {
    const { id, path } = c.req.valid("param");
    await deleteSecret(ctxOf(c), { vaultId: id, path });
    return c.body(null, 204);
  });
  app.openapi(versions, async (c) => {
    const { id, path } = c.req.valid("param");
    return c.json(await listSecretVersions(ctxOf(c), { vaultId: id, path }), 200);
  });
  app.openapi(getVersion, async (c) => {
    const { id, path, version } = c.req.valid("param");
    return c.json(await readSecret(ctxOf(c), { vaultId: id, path, version }), 200);
  });
  app.openapi(disableVersion, async (c) => {
    const { id, path, version } = c.req.valid("param");
    await disableSecretVersion(ctxOf(c), { vaultId: id, path, version });
    return c.body(null, 204);
  });
  app.openapi(rotate, async (c) => {
    const { id, path } = c.req.valid("param");
    return c.json(await rotateSecret(ctxOf(c), { vaultId: id, path, body: c.req.valid("json") }), 201);
  });
}
