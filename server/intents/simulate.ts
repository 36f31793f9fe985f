import { getAddress, type Hex } from "viem";
import type { SimulateTransactionRequest, SimulationResponse } from "../../lib/contract/transactions";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { log } from "../log";
import { proxyAgent } from "./access";
import { resolveSigner } from "./signing";
import { type SimCall, simulateBundle, simulateCall } from "./simulation";
import { TenderlyUnavailable, tenderlySimulate, tenderlySimulateBundle } from "./tenderly";
import { resolveChain, valueWei } from "./transactions";

/**
 * Simulations never sign and reserve nothing: they need the signer only for its address (the
 * `from` of the call). Guardrails are not applied — a simulation moves nothing — but the proxy flag is.
 * With Tenderly configured it simulates; when Tenderly cannot answer (unreachable, 4xx/5xx, an
 * unreadable answer) the chain's own node does, and the response carries a warning saying so: a
 * simulation is advice, and the node is always there (submit's simulate_first always uses it).
 */
async function toCall(ctx: Ctx, agent: Parameters<typeof resolveSigner>[1], body: SimulateTransactionRequest): Promise<{ call: SimCall; rpcUrl: string; chain: string; chainId: number }> {
  const { chain, rpcUrl } = resolveChain(ctx, body.chain);
  const signer = await resolveSigner(ctx, agent, { chain, signingKeyPath: body.signing_key_path, vaultId: body.vault_id });
  signer.dispose();
  return { call: { from: signer.address, to: getAddress(body.to), value: valueWei(body.value), data: (body.data ?? "0x") as Hex, gas: body.gas_limit }, rpcUrl, chain: chain.name, chainId: chain.chain_id };
}

async function viaTenderly<T extends object>(ctx: Ctx, tenderly: (cfg: NonNullable<Ctx["rt"]["config"]["tenderly"]>) => Promise<T>, node: () => Promise<T>): Promise<T & { warnings?: string[] }> {
  const cfg = ctx.rt.config.tenderly;
  if (!cfg) return node();
  try {
    return await tenderly(cfg);
  } catch (e) {
    if (!(e instanceof TenderlyUnavailable)) throw e;
    log.warn("tenderly simulation failed; simulating on the chain's node", { requestId: ctx.requestId, reason: e.message });
    return { ...(await node()), warnings: [`${e.message}; simulated on the chain's own node instead`] };
  }
}

export async function simulateTransaction(ctx: Ctx, agentId: string, body: SimulateTransactionRequest): Promise<SimulationResponse> {
  const agent = await proxyAgent(ctx, agentId, { requireEnabled: true });
  const { call, rpcUrl, chain, chainId } = await toCall(ctx, agent, body);
  const sim = await viaTenderly(ctx, (cfg) => tenderlySimulate(cfg, chainId, rpcUrl, call), () => simulateCall(rpcUrl, call));
  await ctx.rt.audit.record(ctx, {
    action: "tx.simulate",
    resourceType: "agent",
    resourceId: agentId,
    details: { chain, to: call.to, value_wei: call.value.toString(), status: sim.status, simulation_id: sim.simulation_id, method: sim.method, ...(sim.warnings ? { fallback: true } : {}) },
  });
  return sim;
}

export async function simulateTransactionBundle(ctx: Ctx, agentId: string, body: { transactions: SimulateTransactionRequest[] }) {
  const agent = await proxyAgent(ctx, agentId, { requireEnabled: true });
  const calls: Awaited<ReturnType<typeof toCall>>[] = [];
  for (const t of body.transactions) calls.push(await toCall(ctx, agent, t));
  const rpcUrl = calls[0]!.rpcUrl;
  if (calls.some((c) => c.rpcUrl !== rpcUrl)) {
    throw ApiError.badRequest("transactions: a bundle runs on one chain", [{ field: "transactions", message: "all transactions must name the same chain" }]);
  }
  const txs = calls.map((c) => c.call);
  const result = await viaTenderly(ctx, (cfg) => tenderlySimulateBundle(cfg, calls[0]!.chainId, rpcUrl, txs), () => simulateBundle(rpcUrl, txs));
  await ctx.rt.audit.record(ctx, {
    action: "tx.simulate_bundle",
    resourceType: "agent",
    resourceId: agentId,
    details: { chain: calls[0]!.chain, transactions: calls.length, method: result.method, statuses: result.simulations.map((s) => s.status).join(","), ...(result.warnings ? { fallback: true } : {}) },
  });
  return result;
}
