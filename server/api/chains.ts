import { createRoute } from "@hono/zod-openapi";
import { ZChainListResponse, ZChainParam, ZChainResponse } from "../../lib/contract/chains";
import { problemResponses } from "../../lib/contract/common";
import { type ApiApp, ctxOf, requireAuth } from "../http/pipeline";
import { getChain, listChains } from "../intents/chains";

const json = <T>(schema: T) => ({ "application/json": { schema } });

const list = createRoute({
  method: "get",
  path: "/v1/chains",
  tags: ["Chains"],
  summary: "List supported chains (not metered)",
  middleware: [requireAuth],
  responses: { 200: { description: "Chains", content: json(ZChainListResponse) }, ...problemResponses(401) },
});

const get = createRoute({
  method: "get",
  path: "/v1/chains/{name_or_id}",
  tags: ["Chains"],
  summary: "Get a chain by name or numeric chain id (not metered)",
  middleware: [requireAuth],
  request: { params: ZChainParam },
  responses: { 200: { description: "Chain", content: json(ZChainResponse) }, ...problemResponses(400, 401, 404) },
});

export function registerChainRoutes(app: ApiApp) {
  app.openapi(list, (c) => c.json(listChains(ctxOf(c)), 200));
  app.openapi(get, (c) => c.json(getChain(ctxOf(c), c.req.valid("param").name_or_id), 200));
}
