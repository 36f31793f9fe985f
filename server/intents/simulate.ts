import { getAddress, type Hex } from "viem";
import type { SimulateTransactionRequest, SimulationResponse } from "../../lib/contract/transactions";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { proxyAgent } from "./access";
import { resolveSigner } from "./signing";
import { type SimCall, simulateBundle, simulateCall } from "./simulation";
import { resolveChain, valueWei } from "./transactions";

/**
 * Simulations never sign and reserve nothing: they need the signer only for its address (the
 * `from` of the call). Guardrails are not applied — a simulation moves nothing — but the proxy flag is.
 */
async function toCall(ctx: Ctx, agent: Parameters<typeof resolveSigner>[1], body: SimulateTransactionRequest): Promise<{ call: SimCall; rpcUrl: string; chain: string }> {
  const { chain, rpcUrl } = resolveChain(ctx, body.chain);
  const signer = await resolveSigner(ctx, agent, { chain, signingKeyPath: body.signing_key_path, vaultId: body.vault_id });
  signer.dispose();
  return { call: { from: signer.address, to: getAddress(body.to), value: valueWei(body.value), data: (body.data ?? "0x") as Hex, gas: body.gas_limit }, rpcUrl, chain: chain.name };
}

export async function simulateTransaction(ctx: Ctx, agentId: string, body: SimulateTransactionRequest): Promise<SimulationResponse> {
  const agent = await proxyAgent(ctx, agentId, { requireEnabled: true });
  const { call, rpcUrl, chain } = await toCall(ctx, agent, body);
  const sim = await simulateCall(rpcUrl, call);
  await ctx.rt.audit.record(ctx, {
    action: "tx.simulate",
    resourceType: "agent",
    resourceId: agentId,
    details: { chain, to: call.to, value_wei: call.value.toString(), status: sim.status, simulation_id: sim.simulation_id },
  });
  return sim;
}

export async function simulateTransactionBundle(ctx: Ctx, agentId: string, body: { transactions: SimulateTransactionRequest[] }) {
  const agent = await proxyAgent(ctx, agentId, { requireEnabled: true });
  const calls = [];
  for (const t of body.transactions) calls.push(await toCall(ctx, agent, t));
  const rpcUrl = calls[0]!.rpcUrl;
  if (calls.some((c) => c.rpcUrl !== rpcUrl)) {
    throw ApiError.badRequest("transactions: a bundle runs on one chain", [{ field: "transactions", message: "all transactions must name the same chain" }]);
  }
  const result = await simulateBundle(rpcUrl, calls.map((c) => c.call));
  await ctx.rt.audit.record(ctx, {
    action: "tx.simulate_bundle",
    resourceType: "agent",
    resourceId: agentId,
    details: { chain: calls[0]!.chain, transactions: calls.length, method: result.method, statuses: result.simulations.map((s) => s.status).join(",") },
  });
  return result;
}
