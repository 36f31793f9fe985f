import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { problemResponses, ZIdParam } from "../../lib/contract/common";
import { ZCreateShareRequest, ZListSharesQuery, ZSecretIdParam, ZShareCreated, ZSharedSecret, ZShareList } from "../../lib/contract/shares";
import { type ApiApp, type ApiEnv, ctxOf, publicCtxOf, requireAuth } from "../http/pipeline";
import { accessShare, checkShareLink } from "../shares/access";
import { answerShare, createShare, listInboundShares, listOutboundShares, listShares, revokeShare } from "../shares/service";

const json = <T>(schema: T) => ({ "application/json": { schema } });

/** The share link is public; a caller that presents credentials (targeted shares) is authenticated fully. */
const optionalAuth: MiddlewareHandler<ApiEnv> = (c, next) => (c.req.header("authorization") ? requireAuth(c, next) : next());

/** Hono serves HEAD through the GET route; a HEAD on a share link stops here, before any read. */
const headIsLinkCheck: MiddlewareHandler<ApiEnv> = async (c, next) => {
  if (c.req.method !== "HEAD") return next();
  await checkShareLink(publicCtxOf(c), c.req.param("id") ?? "");
  return c.body(null, 200);
};

/** OpenAPI for "credentials optional": anonymous, or the bearer scheme. */
const OPTIONAL_BEARER: Record<string, string[]>[] = [{}, { bearerAuth: [] }];

const ZShareAccessHeaders = z.object({
  "x-share-passphrase": z.string().max(256).optional().openapi({ description: "The share's passphrase, when it has one" }),
  "x-share-token": z.string().max(128).optional().openapi({ description: "external_email shares: the token from the mailed link's fragment (#token=…)" }),
});

const create = createRoute({
  method: "post",
  path: "/v1/secrets/{secret_id}/share",
  tags: ["Sharing"],
  summary: "Share a secret with a user, an agent, your creator, or anyone holding the link",
  middleware: [requireAuth],
  request: { params: ZSecretIdParam, body: { required: true, content: json(ZCreateShareRequest) } },
  responses: { 201: { description: "Created", content: json(ZShareCreated) }, ...problemResponses(400, 401, 403, 404, 410, 429) },
});

const access = createRoute({
  method: "get",
  path: "/v1/share/{id}",
  tags: ["Sharing"],
  summary: "Read a shared secret (public for link shares; the mailed link's token for email shares; the recipient's token for targeted ones)",
  description: "HEAD answers whether the link is live (200, 404, 410) without verifying a passphrase or using a read.",
  middleware: [headIsLinkCheck, optionalAuth],
  security: OPTIONAL_BEARER,
  request: { params: ZIdParam, headers: ZShareAccessHeaders },
  responses: { 200: { description: "The shared secret", content: json(ZSharedSecret) }, ...problemResponses(400, 401, 403, 404, 410, 429) },
});

const revoke = createRoute({
  method: "delete",
  path: "/v1/share/{id}",
  tags: ["Sharing"],
  summary: "Revoke a share you created (org owners and admins: any share of the organisation)",
  middleware: [requireAuth],
  request: { params: ZIdParam },
  responses: { 204: { description: "Revoked" }, ...problemResponses(400, 401, 404) },
});

const list = createRoute({
  method: "get",
  path: "/v1/shares",
  tags: ["Sharing"],
  summary: "Shares you created, shares sent to you, or (owners and admins) every live share of the organisation",
  middleware: [requireAuth],
  request: { query: ZListSharesQuery },
  responses: { 200: { description: "Shares", content: json(ZShareList) }, ...problemResponses(400, 401, 403) },
});

const outbound = createRoute({
  method: "get",
  path: "/v1/shares/outbound",
  tags: ["Sharing"],
  summary: "Shares you created",
  middleware: [requireAuth],
  responses: { 200: { description: "Shares", content: json(ZShareList) }, ...problemResponses(401) },
});

const inbound = createRoute({
  method: "get",
  path: "/v1/shares/inbound",
  tags: ["Sharing"],
  summary: "Shares sent to you",
  middleware: [requireAuth],
  responses: { 200: { description: "Shares", content: json(ZShareList) }, ...problemResponses(401) },
});

const answer = (verb: "accept" | "decline") =>
  createRoute({
    method: "post",
    path: `/v1/shares/{id}/${verb}`,
    tags: ["Sharing"],
    summary: verb === "accept" ? "Accept a share sent to you" : "Decline a share sent to you",
    middleware: [requireAuth],
    request: { params: ZIdParam },
    responses: { 204: { description: verb === "accept" ? "Accepted" : "Declined" }, ...problemResponses(400, 401, 404, 410) },
  });

export function registerShareRoutes(app: ApiApp) {
  app.openapi(create, async (c) => c.json(await createShare(ctxOf(c), { secretId: c.req.valid("param").secret_id, body: c.req.valid("json") }), 201));
  app.openapi(access, async (c) => {
    const headers = c.req.valid("header");
    const input = { id: c.req.valid("param").id, principal: c.get("principal"), passphrase: headers["x-share-passphrase"], token: headers["x-share-token"] };
    return c.json(await accessShare(publicCtxOf(c), input), 200);
  });
  app.openapi(revoke, async (c) => {
    await revokeShare(ctxOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
  app.openapi(list, async (c) => c.json(await listShares(ctxOf(c), c.req.valid("query").scope), 200));
  app.openapi(outbound, async (c) => c.json(await listOutboundShares(ctxOf(c)), 200));
  app.openapi(inbound, async (c) => c.json(await listInboundShares(ctxOf(c)), 200));
  for (const verb of ["accept", "decline"] as const) {
    app.openapi(answer(verb), async (c) => {
      await answerShare(ctxOf(c), { id: c.req.valid("param").id, answer: verb });
      return c.body(null, 204);
    });
  }
}
