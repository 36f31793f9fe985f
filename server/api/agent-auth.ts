import { createRoute } from "@hono/zod-openapi";
import { ZAgentTokenRequest, ZAgentTokenResponse } from "../../lib/contract/agents";
import { problemResponses } from "../../lib/contract/common";
import { exchangeAgentToken } from "../agents/token-exchange";
import { type ApiApp, ctxOf, publicCtxOf, requireAuth } from "../http/pipeline";
import { clientCertFingerprint } from "../http/tls";
import { revokePresentedToken } from "../identity/revocation";

const json = <T>(schema: T) => ({ "application/json": { schema } });

const agentToken = createRoute({
  method: "post",
  path: "/v1/auth/agent-token",
  tags: ["Auth"],
  summary: "Exchange an agent credential for a JWT",
  description:
    "`{agent_id, api_key}` or `{api_key}` alone (the key's non-secret prefix names its agent) for api_key agents; `{agent_id, client_assertion}` (a JWT from the agent's OIDC issuer, audience Talon's public URL or `talon-api`) for oidc_client_credentials agents; `{agent_id}` alone for mtls agents, over a connection presenting the client certificate whose SHA-256 is the agent's client_cert_fingerprint. DPoP (RFC 9449): a `DPoP` proof header (htm POST, htu this endpoint's URL) or a public `dpop_jwk` in the body binds the token to that key (`cnf.jkt`, `token_type: \"DPoP\"`); such a token then works only with a fresh `DPoP` proof (htm, htu, iat, unique jti, ath) on every request, sent as `Authorization: DPoP <token>` (or Bearer).",
  security: [],
  request: { body: { required: true, content: json(ZAgentTokenRequest) } },
  responses: { 200: { description: "An agent token", content: json(ZAgentTokenResponse) }, ...problemResponses(400, 401, 413) },
});

const revokeToken = createRoute({
  method: "delete",
  path: "/v1/auth/token",
  tags: ["Auth"],
  summary: "Revoke the presented token (user or agent JWT); it fails from the next request on",
  middleware: [requireAuth],
  responses: { 204: { description: "Revoked" }, ...problemResponses(400, 401) },
});

export function registerAgentAuthRoutes(app: ApiApp) {
  app.openapi(agentToken, async (c) => {
    const cert = clientCertFingerprint(c.get("rt").config, c.env?.incoming?.socket, (name) => c.req.header(name));
    const dpop = { proof: c.req.header("dpop"), method: c.req.method, url: c.req.url, ip: c.get("ip") };
    return c.json(await exchangeAgentToken(publicCtxOf(c), c.req.valid("json"), cert, dpop), 200);
  });
  app.openapi(revokeToken, async (c) => {
    await revokePresentedToken(ctxOf(c), c.get("bearer"));
    return c.body(null, 204);
  });
}
