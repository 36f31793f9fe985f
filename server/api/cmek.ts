import { createRoute } from "@hono/zod-openapi";
import { problemResponses, ZIdParam } from "../../lib/contract/common";
import { ZCmekDisableHeaders, ZCmekJobParams, ZCmekJobResponse, ZCmekRotateHeaders, ZCmekRotateRequest, ZEnableCmekRequest } from "../../lib/contract/cmek";
import { ZVaultResponse } from "../../lib/contract/vaults";
import { type ApiApp, ctxOf, requireAuth } from "../http/pipeline";
import { disableCmek, enableCmek, getCmekJob, startCmekRotation } from "../cmek/service";

const json = <T>(schema: T) => ({ "application/json": { schema } });
const jobLocation = (vaultId: string, jobId: string) => `/v1/vaults/${vaultId}/cmek-rotate/${jobId}`;
const accepted = { description: "Job started (or resumed); follow it at Location", headers: { Location: { description: "The job", schema: { type: "string" as const } } }, content: json(ZCmekJobResponse) };

const enable = createRoute({
  method: "post",
  path: "/v1/vaults/{id}/cmek",
  tags: ["CMEK"],
  summary: "Enable a customer-managed key: only its SHA-256 fingerprint is sent; a vault that holds versions needs every readable one re-encrypted by the client in `versions` (409 otherwise), swapped in all at once",
  middleware: [requireAuth],
  request: { params: ZIdParam, body: { required: true, content: json(ZEnableCmekRequest) } },
  responses: { 200: { description: "Vault", content: json(ZVaultResponse) }, ...problemResponses(400, 401, 403, 404, 409) },
});

const disable = createRoute({
  method: "delete",
  path: "/v1/vaults/{id}/cmek",
  tags: ["CMEK"],
  summary: "Disable the customer-managed key: a job opens every version with the key (X-CMEK-Key) and stores it back without one",
  middleware: [requireAuth],
  request: { params: ZIdParam, headers: ZCmekDisableHeaders },
  responses: { 202: accepted, ...problemResponses(400, 401, 403, 404, 409) },
});

const rotate = createRoute({
  method: "post",
  path: "/v1/vaults/{id}/cmek-rotate",
  tags: ["CMEK"],
  summary: "Rotate the customer-managed key: re-encrypts every version in batches of 100; the same keys again resume a job whose server died",
  middleware: [requireAuth],
  request: { params: ZIdParam, headers: ZCmekRotateHeaders, body: { required: true, content: json(ZCmekRotateRequest) } },
  responses: { 202: accepted, ...problemResponses(400, 401, 403, 404, 409) },
});

const job = createRoute({
  method: "get",
  path: "/v1/vaults/{id}/cmek-rotate/{job_id}",
  tags: ["CMEK"],
  summary: "A customer-key job's progress",
  middleware: [requireAuth],
  request: { params: ZCmekJobParams },
  responses: { 200: { description: "Job", content: json(ZCmekJobResponse) }, ...problemResponses(400, 401, 403, 404) },
});

export function registerCmekRoutes(app: ApiApp) {
  app.openapi(enable, async (c) => c.json(await enableCmek(ctxOf(c), c.req.valid("param").id, c.req.valid("json")), 200));
  app.openapi(disable, async (c) => {
    const { id } = c.req.valid("param");
    const j = await disableCmek(ctxOf(c), id, { key: c.req.valid("header")["x-cmek-key"] });
    return c.json(j, 202, { Location: jobLocation(id, j.id) });
  });
  app.openapi(rotate, async (c) => {
    const { id } = c.req.valid("param");
    const h = c.req.valid("header");
    const j = await startCmekRotation(ctxOf(c), id, c.req.valid("json"), { oldKey: h["x-cmek-old-key"], newKey: h["x-cmek-new-key"] });
    return c.json(j, 202, { Location: jobLocation(id, j.id) });
  });
  app.openapi(job, async (c) => {
    const { id, job_id } = c.req.valid("param");
    return c.json(await getCmekJob(ctxOf(c), id, job_id), 200);
  });
}
