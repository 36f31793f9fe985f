import { ApiError } from "../http/errors";

/**
 * A minimal JSON-RPC client for the chain's own node. Raw on purpose: simulation needs the node's
 * error object as sent (its `data` carries the revert payload), which richer clients wrap away.
 * Errors never include the RPC URL (provider URLs carry API keys).
 */
export type RpcError = { code: number; message: string; data?: unknown };
export type RpcResult<T> = { ok: true; result: T } | { ok: false; error: RpcError };

const RPC_TIMEOUT_MS = 15_000;
let nextId = 1;

/**
 * The node gave no JSON-RPC answer. `delivery` tells whether the request can have reached it:
 * "not_sent" when no connection was made (refused, no route, no such host, connect timeout), so the
 * node never saw it; "unknown" when the connection was made and then lost or timed out, or something
 * in between answered without a JSON-RPC body — the node may have acted on it.
 */
export class RpcUnavailableError extends ApiError {
  constructor(
    method: string,
    readonly delivery: "not_sent" | "unknown",
    detail = delivery === "not_sent" ? `The chain's RPC node could not be reached for ${method}` : `The chain's RPC node did not answer ${method}`,
  ) {
    super(502, detail);
  }
}

const NOT_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "UND_ERR_CONNECT_TIMEOUT"]);

function delivery(e: unknown): "not_sent" | "unknown" {
  for (let c: unknown = e, depth = 0; c && depth < 4; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === "string" && NOT_CONNECTED.has(code)) return "not_sent";
    // AggregateError (happy-eyeballs over several addresses): not sent only if no attempt connected.
    const errors = (c as { errors?: unknown[] }).errors;
    if (Array.isArray(errors) && errors.length && errors.every((x) => delivery(x) === "not_sent")) return "not_sent";
  }
  return "unknown";
}

export async function rpcTry<T>(url: string, method: string, params: unknown[]): Promise<RpcResult<T>> {
  let res: Response;
  let body: { result?: T; error?: RpcError };
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
      signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
    });
  } catch (e) {
    throw new RpcUnavailableError(method, delivery(e));
  }
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new RpcUnavailableError(method, "unknown", `The chain's RPC node answered ${method} with HTTP ${res.status} and no JSON-RPC body`);
  }
  if (body.error) return { ok: false, error: { code: Number(body.error.code), message: String(body.error.message ?? "").slice(0, 500), data: body.error.data } };
  return { ok: true, result: body.result as T };
}

export async function rpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const r = await rpcTry<T>(url, method, params);
  if (!r.ok) throw new ApiError(502, `The chain's RPC node refused ${method}: ${r.error.message}`);
  return r.result;
}

/** "Method not found" in its usual spellings (-32601, or a -32004 "not supported" as Hardhat sends). */
export const methodUnsupported = (e: RpcError) =>
  e.code === -32601 || e.code === -32004 || /not (supported|found|available)|does not exist|unsupported/i.test(e.message);
