import { createRoute } from "@hono/zod-openapi";
import { problemResponses, ZIdParam } from "../../lib/contract/common";
import {
  ZCreateSigningKeyRequest,
  ZSigningKey,
  ZSigningKeyList,
  ZSigningKeyParam,
  ZSimulateBundleRequest,
  ZSimulateTransactionRequest,
  ZSimulation,
  ZSimulationBundle,
  ZSubmitTransactionRequest,
  ZTransaction,
  ZTransactionGetQuery,
  ZTransactionList,
  ZTransactionListQuery,
  ZTxIdParam,
} from "../../lib/contract/transactions";
import { ApiError } from "../http/errors";
import { type ApiApp, ctxOf, requireAuth } from "../http/pipeline";
import { createSigningKey, deleteSigningKey, listSigningKeys } from "../intents/signing-keys";
import { simulateTransaction, simulateTransactionBundle } from "../intents/simulate";
import { getTransaction, listTransactions, submitTransaction } from "../intents/transactions";

const json = <T>(schema: T) => ({ "application/json": { schema } });
const base = { tags: ["Crypto proxy"], middleware: [requireAuth] };

const submit = createRoute({
  ...base,
  method: "post",
  path: "/v1/agents/{id}/transactions",
  summary: "Sign and broadcast a transaction (guardrails, then simulation unless simulate_first is false); Idempotency-Key honoured",
  request: { params: ZIdParam, body: { required: true, content: json(ZSubmitTransactionRequest) } },
  responses: {
    201: { description: "Submitted", content: json(ZTransaction) },
    200: { description: "Replay of an Idempotency-Key within 24 h", content: json(ZTransaction) },
    ...problemResponses(400, 401, 403, 404, 409, 422, 502),
  },
});

const list = createRoute({
  ...base,
  method: "get",
  path: "/v1/agents/{id}/transactions",
  summary: "The agent's transactions, newest first",
  request: { params: ZIdParam, query: ZTransactionListQuery },
  responses: { 200: { description: "Transactions", content: json(ZTransactionList) }, ...problemResponses(400, 401, 403, 404) },
});

const get = createRoute({
  ...base,
  method: "get",
  path: "/v1/agents/{id}/transactions/{tx_id}",
  summary: "A transaction; signed_tx only with ?include_signed_tx=true (humans)",
  request: { params: ZTxIdParam, query: ZTransactionGetQuery },
  responses: { 200: { description: "Transaction", content: json(ZTransaction) }, ...problemResponses(400, 401, 403, 404) },
});

const simulate = createRoute({
  ...base,
  method: "post",
  path: "/v1/agents/{id}/transactions/simulate",
  summary: "Simulate a transaction on the chain's node (never signs)",
  request: { params: ZIdParam, body: { required: true, content: json(ZSimulateTransactionRequest) } },
  responses: { 200: { description: "Simulation", content: json(ZSimulation) }, ...problemResponses(400, 401, 403, 404, 422, 502) },
});

const simulateBundle = createRoute({
  ...base,
  method: "post",
  path: "/v1/agents/{id}/transactions/simulate-bundle",
  summary: "Simulate transactions in order, state carried where the node supports eth_simulateV1 (never signs)",
  request: { params: ZIdParam, body: { required: true, content: json(ZSimulateBundleRequest) } },
  responses: { 200: { description: "Simulations", content: json(ZSimulationBundle) }, ...problemResponses(400, 401, 403, 404, 422, 502) },
});

const createKey = createRoute({
  ...base,
  method: "post",
  path: "/v1/agents/{id}/signing-keys",
  summary: "Generate a secp256k1 signing key inside the HSM for the agent (signed-in humans only)",
  request: { params: ZIdParam, body: { required: true, content: json(ZCreateSigningKeyRequest) } },
  responses: { 201: { description: "Created", content: json(ZSigningKey) }, ...problemResponses(400, 401, 403, 404, 422) },
});

const listKeys = createRoute({
  ...base,
  method: "get",
  path: "/v1/agents/{id}/signing-keys",
  summary: "The agent's HSM signing keys (addresses only)",
  request: { params: ZIdParam },
  responses: { 200: { description: "Signing keys", content: json(ZSigningKeyList) }, ...problemResponses(400, 401, 403, 404) },
});

const deleteKey = createRoute({
  ...base,
  method: "delete",
  path: "/v1/agents/{id}/signing-keys/{key_id}",
  summary: "Destroy an HSM signing key (signed-in humans only)",
  request: { params: ZSigningKeyParam },
  responses: { 204: { description: "Destroyed" }, ...problemResponses(400, 401, 403, 404) },
});

function idempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(header)) throw ApiError.badRequest("Idempotency-Key: 1 to 255 visible ASCII characters", [{ field: "Idempotency-Key", message: "1 to 255 visible ASCII characters" }]);
  return header;
}

export function registerTransactionRoutes(app: ApiApp) {
  app.openapi(submit, async (c) => {
    const { status, tx } = await submitTransaction(ctxOf(c), c.req.valid("param").id, c.req.valid("json"), idempotencyKey(c.req.header("idempotency-key")));
    return status === 201 ? c.json(tx, 201) : c.json(tx, 200);
  });
  app.openapi(list, async (c) => c.json(await listTransactions(ctxOf(c), c.req.valid("param").id, c.req.valid("query")), 200));
  app.openapi(get, async (c) => {
    const { id, tx_id } = c.req.valid("param");
    return c.json(await getTransaction(ctxOf(c), id, tx_id, c.req.valid("query").include_signed_tx === "true"), 200);
  });
  app.openapi(simulate, async (c) => c.json(await simulateTransaction(ctxOf(c), c.req.valid("param").id, c.req.valid("json")), 200));
  app.openapi(simulateBundle, async (c) => c.json(await simulateTransactionBundle(ctxOf(c), c.req.valid("param").id, c.req.valid("json")), 200));
  app.openapi(createKey, async (c) => c.json(await createSigningKey(ctxOf(c), c.req.valid("param").id, c.req.valid("json")), 201));
  app.openapi(listKeys, async (c) => c.json(await listSigningKeys(ctxOf(c), c.req.valid("param").id), 200));
  app.openapi(deleteKey, async (c) => {
    const { id, key_id } = c.req.valid("param");
    await deleteSigningKey(ctxOf(c), id, key_id);
    return c.body(null, 204);
  });
}
