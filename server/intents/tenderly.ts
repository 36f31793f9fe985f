import { randomUUID } from "node:crypto";
import { getAddress } from "viem";
import { z } from "zod";
import type { SimulationResponse } from "../../lib/contract/transactions";
import type { TenderlyConfig } from "../config";
import { OutboundRefused, sendOutbound } from "../net/outbound";
import { addDelta, balanceChanges, decodeRevert, type Delta, type SimCall } from "./simulation";

/**
 * Simulation through Tenderly's Simulation API, used instead of the chain's node when the operator
 * configures TALON_TENDERLY_* (off by default): `POST /api/v1/account/{account}/project/{project}/simulate`
 * and `/simulate-bundle`, the access key in `X-Access-Key` and nowhere else (not in a URL, log, error
 * or audit event). Its answer is mapped to the same SimulationResponse the node path gives:
 * - status and gas from `transaction.status` and `transaction.gas_used` (with `estimate_gas`);
 * - the revert reason decoded from the call trace's raw output exactly as the node path decodes
 *   revert data, else Tenderly's own `error_reason`, else its `error_message`;
 * - balance changes from `transaction_info.asset_changes` (native coin and ERC-20; NFTs are not
 *   balances), `before` read from the chain's node as on the node path (plus, in a bundle, what the
 *   earlier transactions moved). `gas_price` 0, so gas fees are not among them either.
 * Any failure to get a readable answer throws TenderlyUnavailable, whose message is safe to show.
 */
export class TenderlyUnavailable extends Error {}

const TIMEOUT_MS = 20_000;
/** Full-mode answers carry decoded traces and contract metadata: generous, but bounded. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** Tenderly needs a gas limit; without the caller's, a block's worth. */
const DEFAULT_GAS = 30_000_000;

const ZAssetChange = z.object({
  token_info: z.object({ standard: z.string().max(64).nullish(), contract_address: z.string().max(64).nullish() }).nullish(),
  from: z.string().max(64).nullish(),
  to: z.string().max(64).nullish(),
  raw_amount: z.union([z.string().max(100), z.number()]).nullish(),
});

const ZResult = z.object({
  transaction: z.object({
    status: z.boolean(),
    gas_used: z.number().int().nonnegative().nullish(),
    error_message: z.string().nullish(),
    transaction_info: z
      .object({
        asset_changes: z.array(ZAssetChange).max(10_000).nullish(),
        call_trace: z.object({ output: z.string().nullish(), error_reason: z.string().nullish() }).nullish(),
      })
      .nullish(),
  }),
});
type TenderlyResult = z.infer<typeof ZResult>;

const ZBundleAnswer = z.object({ simulation_results: z.array(ZResult).max(64) });

const simulationRequest = (chainId: number, c: SimCall) => ({
  network_id: String(chainId),
  from: c.from.toLowerCase(),
  to: c.to.toLowerCase(),
  input: c.data,
  value: c.value.toString(),
  gas: c.gas ?? DEFAULT_GAS,
  gas_price: "0",
  estimate_gas: true,
  simulation_type: "full",
  save: false,
  save_if_fails: false,
});

async function post<T>(cfg: TenderlyConfig, endpoint: "simulate" | "simulate-bundle", body: unknown, schema: z.ZodType<T>): Promise<T> {
  const url = new URL(`${cfg.apiUrl}/api/v1/account/${encodeURIComponent(cfg.account)}/project/${encodeURIComponent(cfg.project)}/${endpoint}`);
  let res;
  try {
    res = await sendOutbound({
      url,
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", "X-Access-Key": cfg.accessKey },
      body: JSON.stringify(body),
      allowPrivate: cfg.allowPrivate,
      allowHint: "TALON_TENDERLY_ALLOW_PRIVATE=1 allows it",
      timeoutMs: TIMEOUT_MS,
      maxResponseBytes: MAX_RESPONSE_BYTES,
    });
  } catch (e) {
    if (e instanceof OutboundRefused) throw new TenderlyUnavailable(`Tenderly was not called: ${e.message}`);
    const code = (e as { code?: unknown }).code;
    throw new TenderlyUnavailable(`Tenderly could not be reached${typeof code === "string" && /^[A-Z_]{1,32}$/.test(code) ? ` (${code})` : ""}`);
  }
  if (res.status < 200 || res.status > 299) {
    // Tenderly's error body names a slug (e.g. "invalid_api_key"); show only that, bounded.
    let slug = "";
    try {
      const s = (JSON.parse(res.body.toString("utf8")) as { error?: { slug?: unknown } }).error?.slug;
      if (typeof s === "string" && /^[a-z0-9_]{1,64}$/.test(s)) slug = `, ${s}`;
    } catch {
      // Not JSON: the status says enough.
    }
    throw new TenderlyUnavailable(`Tenderly answered HTTP ${res.status}${slug}`);
  }
  if (res.truncated) throw new TenderlyUnavailable(`Tenderly's answer exceeded ${MAX_RESPONSE_BYTES / 1024 / 1024} MiB`);
  let json: unknown;
  try {
    json = JSON.parse(res.body.toString("utf8"));
  } catch {
    throw new TenderlyUnavailable("Tenderly's answer was not JSON");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new TenderlyUnavailable("Tenderly's answer was not a simulation result");
  return parsed.data;
}

const amountOf = (raw: string | number | null | undefined): bigint => {
  if (typeof raw === "number") return BigInt(Math.trunc(raw));
  if (!raw) return 0n;
  return /^0x[0-9a-fA-F]+$/.test(raw) || /^\d+$/.test(raw) ? BigInt(raw) : 0n;
};

function deltasFromAssetChanges(changes: z.infer<typeof ZAssetChange>[]): Delta {
  const d: Delta = new Map();
  for (const c of changes) {
    const standard = c.token_info?.standard;
    const token = standard === "NativeCurrency" ? "native" : standard === "ERC20" && c.token_info?.contract_address ? getAddress(c.token_info.contract_address) : null;
    if (!token) continue;
    const amount = amountOf(c.raw_amount);
    // A mint has no sender and a burn no recipient.
    if (c.from) addDelta(d, token, c.from, -amount);
    if (c.to) addDelta(d, token, c.to, amount);
  }
  return d;
}

function revertReason(tx: TenderlyResult["transaction"]): string {
  const trace = tx.transaction_info?.call_trace;
  const output = trace?.output;
  if (output && /^0x[0-9a-fA-F]{8,}$/.test(output)) return decodeRevert(output, "");
  return (trace?.error_reason || tx.error_message || "execution reverted").slice(0, 2048);
}

async function toSimulation(rpcUrl: string, call: SimCall, r: TenderlyResult, carried: Delta): Promise<{ sim: SimulationResponse; deltas: Delta }> {
  const tx = r.transaction;
  const base = { simulation_id: randomUUID(), from: getAddress(call.from), method: "tenderly", gas_used: tx.gas_used == null ? null : String(tx.gas_used) };
  if (!tx.status) return { sim: { ...base, status: "reverted", balance_changes: [], revert_reason: revertReason(tx), error: null }, deltas: new Map() };
  let deltas: Delta;
  try {
    deltas = deltasFromAssetChanges(tx.transaction_info?.asset_changes ?? []);
  } catch {
    throw new TenderlyUnavailable("Tenderly's answer named an address that is not one");
  }
  return { sim: { ...base, status: "success", balance_changes: await balanceChanges(rpcUrl, deltas, carried), revert_reason: null, error: null }, deltas };
}

export async function tenderlySimulate(cfg: TenderlyConfig, chainId: number, rpcUrl: string, call: SimCall): Promise<SimulationResponse> {
  const r = await post(cfg, "simulate", simulationRequest(chainId, call), ZResult);
  return (await toSimulation(rpcUrl, call, r, new Map())).sim;
}

/**
 * Tenderly runs the bundle in one block, each transaction on the state the earlier ones left, and
 * stops at the first that fails: the ones after it come back as `error`, not simulated.
 */
export async function tenderlySimulateBundle(cfg: TenderlyConfig, chainId: number, rpcUrl: string, calls: SimCall[]): Promise<{ simulations: SimulationResponse[]; method: string; state_carried: boolean }> {
  const answer = await post(cfg, "simulate-bundle", { simulations: calls.map((c) => simulationRequest(chainId, c)) }, ZBundleAnswer);
  const carried: Delta = new Map();
  const simulations: SimulationResponse[] = [];
  for (const [i, call] of calls.entries()) {
    const r = answer.simulation_results[i];
    if (!r) {
      simulations.push({ simulation_id: randomUUID(), from: getAddress(call.from), method: "tenderly", status: "error", gas_used: null, balance_changes: [], revert_reason: null, error: "Not simulated: Tenderly stops a bundle at the first transaction that fails" });
      continue;
    }
    const { sim, deltas } = await toSimulation(rpcUrl, call, r, carried);
    simulations.push(sim);
    for (const [k, v] of deltas) carried.set(k, (carried.get(k) ?? 0n) + v);
  }
  return { simulations, method: "tenderly", state_carried: true };
}
