import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Runtime } from "../runtime";
import type { Ctx } from "./principal";
import type { Principal } from "./principals";

/** The Hono environment of every API request: what the pipeline's middleware sets for the routes. */
export type ApiEnv = {
  /** `ctxs`: every Ctx ctxOf built for the request, so a failed request can give back the approvals it took. */
  Variables: { rt: Runtime; requestId: string; ip: string; principal: Principal; bearer: string; ctxs: Ctx[] };
  /**
   * `incoming` and `outgoing`: the Node request and response, which @hono/node-server passes for a request
   * from the network. `dpopAttestedJkt`: set only by in-process callers (hosted MCP), see DpopPresentation.
   */
  Bindings: { incoming?: { socket?: { remoteAddress?: string } }; outgoing?: unknown; dpopAttestedJkt?: string };
};
export type ApiApp = OpenAPIHono<ApiEnv>;
