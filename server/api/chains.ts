import { createRoute } from "@hono/zod-openapi";
import { ZChainListResponse, ZChainParam, ZChainResponse } from "../../lib/contract/chains";
import { problemResponses } from "../../lib/contract/common";
import { type ApiApp, publicCtxOf } from "../http/pipeline";
import { getChain, listChains } from "../intents/chains";

const json = <T>(schema: T) => ({ "application/json": { schema } });

const list = createRoute({
  method: "get",
  path: "/v1/chains",
  tags: ["Chains"],
  summary: "List supported chains (public, not metered)",
  security: [],
  responses: { 200: { description: "Chains", content: json(ZChainListResponse) } },
});

const get = createRoute({
  method: "get",
  path: "/v1/chains/{name_or_id}",
  tags: ["Chains"],
  summary: "Get a chain by name or numeric chain id (public, not metered)",
  security: [],
  request: { params: ZChainParam },
  responses: { 200: { description: "Chain", content: json(ZChainResponse) }, ...problemResponses(400, 404) },
});

export function registerChainRoutes(app: ApiApp) {
  app.openapi(list, (c) => c.json(listChains(publicCtxOf(c)), 200));
  app.openapi(get, (c) => c.json(getChain(publicCtxOf(c), c.req.valid("param").name_or_id), 200));
}
