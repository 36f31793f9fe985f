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

export async function rpcTry<T>(url: string, method: string, params: unknown[]): Promise<RpcResult<T>> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
      signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
    });
  } catch {
    throw new ApiError(502, `The chain's RPC node did not answer ${method}`);
  }
  let body: { result?: T; error?: RpcError };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new ApiError(502, `The chain's RPC node answered ${method} with HTTP ${res.status} and no JSON-RPC body`);
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
