import { createRoute } from "@hono/zod-openapi";
import { problemResponses } from "../../lib/contract/common";
import { ZSecretInjectRequest, ZSecretInjectResponse } from "../../lib/contract/secret-use";
import { ZSecretParams } from "../../lib/contract/secrets";
import { type ApiApp, ctxOf, requireAuth } from "../http/pipeline";
import { injectSecret } from "../secrets/use";

const json = <T>(schema: T) => ({ "application/json": { schema } });

const inject = createRoute({
  method: "post",
  path: "/v1/vaults/{id}/secret-inject/{path{.+}}",
  tags: ["Secrets"],
  summary: "Hand an env_bundle to `talon run` for a child process's environment (needs `use` or `read`)",
  description:
    "For `talon run`: the bundle's text, to be put into the environment of a process the caller starts. Needs `use` on the path (`read` implies it), so a principal that may not read the value can still run a command with it. Counted against `max_access_count` like a read and audited as `secret.use` with the purpose. The process it is injected into can see the value.",
  middleware: [requireAuth],
  request: { params: ZSecretParams, body: { required: true, content: json(ZSecretInjectRequest) } },
  responses: { 200: { description: "The bundle, for injection", content: json(ZSecretInjectResponse) }, ...problemResponses(400, 401, 403, 404, 410, 422) },
});

export function registerSecretUseRoutes(app: ApiApp) {
  app.openapi(inject, async (c) => {
    const { id, path } = c.req.valid("param");
    return c.json(await injectSecret(ctxOf(c), { vaultId: id, path, body: c.req.valid("json") }), 200);
  });
}
