import { createRoute } from "@hono/zod-openapi";
import { problemResponses } from "../../lib/contract/common";
import { ZX402PaymentsQuery, ZX402PaymentsResponse, ZX402WellKnown } from "../../lib/contract/x402";
import { listX402Payments } from "../billing/x402-payments";
import { type ApiApp, ctxOf, requireAuth } from "../http/pipeline";

const json = <T>(schema: T) => ({ "application/json": { schema } });

const payments = createRoute({
  method: "get",
  path: "/v1/billing/x402/payments",
  tags: ["Billing"],
  summary: "x402 payments made for requests past the quota, newest first",
  middleware: [requireAuth],
  request: { query: ZX402PaymentsQuery },
  responses: { 200: { description: "Payments", content: json(ZX402PaymentsResponse) }, ...problemResponses(400, 401) },
});

export const x402WellKnown = createRoute({
  method: "get",
  path: "/.well-known/x402",
  tags: ["Billing"],
  summary: "What this server accepts as x402 payment, and for which requests",
  security: [],
  responses: { 200: { description: "x402 discovery document", content: json(ZX402WellKnown) } },
});

export function registerX402Routes(app: ApiApp) {
  app.openapi(payments, async (c) => c.json(await listX402Payments(ctxOf(c), c.req.valid("query").limit), 200));
}
