import { createRoute } from "@hono/zod-openapi";
import { problemResponses, ZIdParam } from "../../lib/contract/common";
import { ZDeletedSecretList, ZRestoredSecret } from "../../lib/contract/secret-transfer";
import { ZSecretParams } from "../../lib/contract/secrets";
import { type ApiApp, ctxOf, requireAuth } from "../http/pipeline";
import { listDeletedSecrets, restoreDeletedSecret } from "../secrets/deleted";

const json = <T>(schema: T) => ({ "application/json": { schema } });

const list = createRoute({
  method: "get",
  path: "/v1/vaults/{id}/deleted-secrets",
  tags: ["Secrets"],
  summary: "List secrets deleted in the last 7 days that can still be restored (metadata only)",
  middleware: [requireAuth],
  request: { params: ZIdParam },
  responses: { 200: { description: "Deleted secrets", content: json(ZDeletedSecretList) }, ...problemResponses(400, 401, 403, 404) },
});

const restore = createRoute({
  method: "post",
  path: "/v1/vaults/{id}/secret-restore/{path{.+}}",
  tags: ["Secrets"],
  summary: "Restore a secret deleted in the last 7 days, with all its versions (needs write access to the path)",
  middleware: [requireAuth],
  request: { params: ZSecretParams },
  responses: { 200: { description: "Restored", content: json(ZRestoredSecret) }, ...problemResponses(400, 401, 403, 404, 409, 410) },
});

export function registerDeletedSecretRoutes(app: ApiApp) {
  app.openapi(list, async (c) => c.json(await listDeletedSecrets(ctxOf(c), { vaultId: c.req.valid("param").id }), 200));
  app.openapi(restore, async (c) => {
    const { id, path } = c.req.valid("param");
    return c.json(await restoreDeletedSecret(ctxOf(c), { vaultId: id, path }), 200);
  });
}
