import { OpenAPIHono } from "@hono/zod-openapi";
import { BucketRouter } from "../http/bucket-router";
import { installErrorHandling, limitBody, requestContext, validationHook, type ApiApp, type ApiEnv } from "../http/pipeline";
import { rateLimitByIp } from "../http/rate-limit";
import { validateRequestsAtOnce } from "../http/route-validation";
import type { Runtime } from "../runtime";
import { registerAgentAuthRoutes } from "./agent-auth";
import { registerAgentRoutes } from "./agents";
import { registerApprovalRoutes } from "./approvals";
import { registerAuditRoutes } from "./audit";
import { registerAuthRoutes } from "./auth";
import { registerBillingRoutes } from "./billing";
import { registerX402Routes } from "./x402";
import { registerChainRoutes } from "./chains";
import { registerCmekRoutes } from "./cmek";
import { registerDeletedSecretRoutes } from "./deleted-secrets";
import { registerHealthRoutes } from "./health";
import { answerWrongVerbs } from "./method-not-allowed";
import { registerMcpRoutes } from "./mcp";
import { registerOpenApiRoute } from "./openapi";
import { registerOrgRoutes } from "./org";
import { registerPolicyRoutes } from "./policies";
import { registerSecretRoutes } from "./secrets";
import { registerSecretUseRoutes } from "./secret-use";
import { registerSecurityRoutes } from "./security";
import { registerShareRoutes } from "./shares";
import { registerTransactionRoutes } from "./transactions";
import { registerVaultRoutes } from "./vaults";
import { registerWebhookRoutes } from "./webhooks";
import { registerBindingRoutes } from "./bindings";

/** The one API app: `/v1/*`, `/.well-known/*` and `/mcp`. Served by server.ts and by Next's catch-all. */
export function createApiApp(rt: Runtime): ApiApp {
  // RegExpRouter refuses a static segment beside a parameter at the same place (`/v1/agents/me` and
  // `/v1/agents/{id}`) and Hono then falls back; its default fallback (TrieRouter) cannot match a
  // catch-all followed by a segment (`secret-version/{path}/{version}`). PatternRouter matches both;
  // BucketRouter runs a PatternRouter over only the routes that can match the request's first segments.
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook as never, router: new BucketRouter() });
  validateRequestsAtOnce(app);
  app.use("*", requestContext(rt));
  app.use("*", rateLimitByIp(rt));
  app.use("*", limitBody);
  installErrorHandling(app);
  registerHealthRoutes(app);
  registerAuthRoutes(app);
  registerAgentAuthRoutes(app);
  registerAgentRoutes(app);
  registerVaultRoutes(app);
  registerSecretRoutes(app);
  registerSecretUseRoutes(app);
  registerCmekRoutes(app);
  registerDeletedSecretRoutes(app);
  registerPolicyRoutes(app);
  registerOrgRoutes(app);
  registerSecurityRoutes(app);
  registerMcpRoutes(app);
  registerBillingRoutes(app);
  registerX402Routes(app);
  registerShareRoutes(app);
  registerAuditRoutes(app);
  registerChainRoutes(app);
  registerTransactionRoutes(app);
  registerWebhookRoutes(app);
  registerApprovalRoutes(app);
  registerBindingRoutes(app);
  registerOpenApiRoute(app); // last: the document lists every route registered before it
  answerWrongVerbs(app); // after every route: a known path with a wrong verb is 405 + Allow
  return app;
}
