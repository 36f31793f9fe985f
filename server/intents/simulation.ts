import { randomUUID } from "node:crypto";
import { decodeAbiParameters, decodeFunctionData, getAddress, type Hex, parseAbi, toHex } from "viem";
import type { SimulationResponse } from "../../lib/contract/transactions";
import { methodUnsupported, rpc, rpcTry, type RpcError } from "./rpc";

/**
 * Simulation against the chain's own node, never a third party, never signing:
 * - status and gas: eth_call then eth_estimateGas on "latest";
 * - revert reason: Error(string) decoded, Panic(uint256) as "Panic(0x..)", anything else (custom
 *   errors) as the raw revert data;
 * - balance changes: from the node's call trace (debug_traceCall, default struct logger): value of
 *   every successful CALL, and every ERC-20 Transfer log (LOG3 with the Transfer topic) with its
 *   emitting contract. Fallback where the node has no debug_traceCall: the top-level value, and the
 *   token movement a `transfer`/`transferFrom` calldata describes. Gas fees are not included.
 */
export type SimCall = { from: Hex; to: Hex; value: bigint; data: Hex; gas?: number };
export type Delta = Map<string, bigint>; // `${token}|${address}` → change, token "native" or the ERC-20 address

const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
const ERC20 = parseAbi(["function transfer(address to, uint256 value)", "function transferFrom(address from, address to, uint256 value)", "function balanceOf(address) view returns (uint256)"]);

const callObject = (c: SimCall) => ({ from: c.from, to: c.to, value: toHex(c.value), data: c.data, ...(c.gas ? { gas: toHex(c.gas) } : {}) });

export function decodeRevert(data: unknown, message: string): string {
  if (typeof data === "object" && data !== null && "data" in data) data = (data as { data: unknown }).data;
  if (typeof data !== "string" || !/^0x[0-9a-fA-F]*$/.test(data) || data.length < 10) {
    return message.replace(/^(VM Exception while processing transaction: )?/, "") || "execution reverted";
  }
  const selector = data.slice(0, 10).toLowerCase();
  try {
    if (selector === "0x08c379a0") return decodeAbiParameters([{ type: "string" }], `0x${data.slice(10)}`)[0];
    if (selector === "0x4e487b71") return `Panic(${toHex(decodeAbiParameters([{ type: "uint256" }], `0x${data.slice(10)}`)[0])})`;
  } catch {
    // Malformed payload: fall through to the raw data.
  }
  return `custom error ${data.slice(0, 2 + 2 * 4 + 2 * 256)}`;
}

export const addDelta = (d: Delta, token: string, address: string, v: bigint) => {
  const k = `${token}|${getAddress(address)}`;
  d.set(k, (d.get(k) ?? 0n) + v);
};
const word = (w: string) => BigInt(`0x${w.replace(/^0x/, "") || "0"}`);
const addr = (w: string) => getAddress(`0x${w.replace(/^0x/, "").padStart(64, "0").slice(24)}`);

type StructLog = { op: string; depth: number; stack?: string[]; memory?: string[] };

/**
 * Walks the struct log keeping the address whose code runs at each depth. A CALL's value counts once
 * the step back at the caller's depth shows success (1 on the stack); logs of an inner frame that
 * later reverts are still counted (the struct log does not mark them).
 */
function deltasFromTrace(call: SimCall, logs: StructLog[]): Delta {
  const d: Delta = new Map();
  if (call.value > 0n) {
    addDelta(d, "native", call.from, -call.value);
    addDelta(d, "native", call.to, call.value);
  }
  const frames: string[] = [call.to];
  const calls: { depth: number; from: string; to: string; value: bigint; context: string; entered: boolean }[] = [];
  for (const step of logs) {
    while (frames.length > step.depth) frames.pop();
    const open = calls.at(-1);
    if (open && !open.entered && step.depth === open.depth + 1) {
      frames.push(open.context);
      open.entered = true;
    } else if (open && step.depth === open.depth) {
      calls.pop();
      if (word(step.stack?.at(-1) ?? "0") === 1n && open.value > 0n) {
        addDelta(d, "native", open.from, -open.value);
        addDelta(d, "native", open.to, open.value);
      }
    }
    const stack = step.stack ?? [];
    const here: string = frames[frames.length - 1]!;
    if (step.op === "CALL" || step.op === "CALLCODE" || step.op === "DELEGATECALL" || step.op === "STATICCALL") {
      const target = addr(stack.at(-2) ?? "0");
      const value = step.op === "CALL" ? word(stack.at(-3) ?? "0") : 0n;
      const context = step.op === "CALL" || step.op === "STATICCALL" ? target : here;
      calls.push({ depth: step.depth, from: here, to: target, value, context, entered: false });
    } else if (step.op === "LOG3" && stack.length >= 5 && `0x${(stack.at(-3) ?? "").replace(/^0x/, "").padStart(64, "0")}` === TRANSFER_TOPIC) {
      const offset = Number(word(stack.at(-1)!));
      const size = Number(word(stack.at(-2)!));
      const memory = (step.memory ?? []).map((w) => w.replace(/^0x/, "")).join("");
      const amount = size >= 32 ? word(memory.slice(offset * 2, offset * 2 + 64)) : 0n;
      addDelta(d, here, addr(stack.at(-4)!), -amount);
      addDelta(d, here, addr(stack.at(-5)!), amount);
    }
  }
  return d;
}

function deltasFromCalldata(call: SimCall): Delta {
  const d: Delta = new Map();
  if (call.value > 0n) {
    addDelta(d, "native", call.from, -call.value);
    addDelta(d, "native", call.to, call.value);
  }
  try {
    const f = decodeFunctionData({ abi: ERC20, data: call.data });
    if (f.functionName === "transfer") {
      addDelta(d, call.to, call.from, -f.args[1]);
      addDelta(d, call.to, f.args[0], f.args[1]);
    } else if (f.functionName === "transferFrom") {
      addDelta(d, call.to, f.args[0], -f.args[2]);
      addDelta(d, call.to, f.args[1], f.args[2]);
    }
  } catch {
    // Not an ERC-20 transfer: only the native value moves.
  }
  return d;
}

async function balanceOf(url: string, token: string, address: string): Promise<bigint> {
  if (token === "native") return BigInt(await rpc<Hex>(url, "eth_getBalance", [address, "latest"]));
  const data = `0x70a08231${address.slice(2).toLowerCase().padStart(64, "0")}` as Hex;
  const r = await rpcTry<Hex>(url, "eth_call", [{ to: token, data }, "latest"]);
  return r.ok && r.result && r.result !== "0x" ? BigInt(r.result) : 0n;
}

/** `carried`: changes of earlier transactions of a bundle, so `before` is the state this one starts from. */
export async function balanceChanges(url: string, d: Delta, carried?: Delta): Promise<SimulationResponse["balance_changes"]> {
  const out: SimulationResponse["balance_changes"] = [];
  for (const [k, change] of d) {
    if (change === 0n) continue;
    const [token, address] = k.split("|") as [string, string];
    const before = (await balanceOf(url, token, address)) + (carried?.get(k) ?? 0n);
    out.push({ address, token, before: before.toString(), after: (before + change).toString(), change: change.toString() });
  }
  return out;
}

/** One transaction against "latest". */
export async function simulateCall(url: string, call: SimCall): Promise<SimulationResponse> {
  const base = { simulation_id: randomUUID(), from: getAddress(call.from) };
  const result = await rpcTry<Hex>(url, "eth_call", [callObject(call), "latest"]);
  if (!result.ok) return reverted(base, result.error, "eth_call");
  const gas = await rpcTry<Hex>(url, "eth_estimateGas", [callObject(call)]);
  if (!gas.ok) return reverted(base, gas.error, "eth_call+eth_estimateGas");
  const trace = await rpcTry<{ failed?: boolean; structLogs?: StructLog[] }>(url, "debug_traceCall", [callObject(call), "latest", { enableMemory: true, disableStorage: true }]);
  let method = "eth_call+eth_estimateGas+debug_traceCall";
  let deltas: Delta;
  if (trace.ok && Array.isArray(trace.result?.structLogs)) {
    deltas = deltasFromTrace(call, trace.result.structLogs);
  } else {
    if (!trace.ok && !methodUnsupported(trace.error)) return { ...base, status: "error", gas_used: null, balance_changes: [], revert_reason: null, error: trace.error.message, method };
    method = "eth_call+eth_estimateGas+calldata";
    deltas = deltasFromCalldata(call);
  }
  return { ...base, status: "success", gas_used: BigInt(gas.result).toString(), balance_changes: await balanceChanges(url, deltas), revert_reason: null, error: null, method };
}

function reverted(base: { simulation_id: string; from: string }, e: RpcError, method: string): SimulationResponse {
  const isRevert = e.code === 3 || /revert|invalid opcode|panic/i.test(e.message) || e.data !== undefined;
  if (!isRevert) return { ...base, status: "error", gas_used: null, balance_changes: [], revert_reason: null, error: e.message, method };
  return { ...base, status: "reverted", gas_used: null, balance_changes: [], revert_reason: decodeRevert(e.data, e.message), error: null, method };
}

type SimV1Log = { address: Hex; topics: Hex[]; data: Hex };
type SimV1Call = { status: Hex; gasUsed: Hex; returnData: Hex; logs?: SimV1Log[]; error?: { message: string; data?: Hex } };

/** eth_simulateV1's `traceTransfers` reports native-coin movements as Transfer logs from this address. */
const NATIVE_TRANSFER_LOGGER = "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";

/**
 * Balance changes from a simulated call's logs: every ERC-20 Transfer (three topics; ERC-721's has
 * four) and, with traceTransfers, every native transfer at any depth. A node that ignores
 * traceTransfers logs no native movement: the top-level value is counted then, as in the fallback.
 */
function deltasFromLogs(call: SimCall, logs: SimV1Log[]): Delta {
  const d: Delta = new Map();
  let nativeLogged = false;
  for (const log of logs) {
    if (log.topics.length !== 3 || log.topics[0]?.toLowerCase() !== TRANSFER_TOPIC) continue;
    const native = log.address.toLowerCase() === NATIVE_TRANSFER_LOGGER;
    nativeLogged ||= native;
    const token = native ? "native" : getAddress(log.address);
    const amount = word(log.data);
    addDelta(d, token, addr(log.topics[1]!), -amount);
    addDelta(d, token, addr(log.topics[2]!), amount);
  }
  if (!nativeLogged && call.value > 0n) {
    addDelta(d, "native", call.from, -call.value);
    addDelta(d, "native", call.to, call.value);
  }
  return d;
}

/**
 * A bundle where each transaction sees the state the ones before it left: eth_simulateV1 (with
 * traceTransfers) when the node has it, balance changes from its logs, each `before` including what
 * the earlier transactions moved. Otherwise each is simulated alone against "latest" and the
 * response says so (`state_carried: false`): a dependent transaction (transferFrom after approve)
 * may then revert.
 */
export async function simulateBundle(url: string, calls: SimCall[]): Promise<{ simulations: SimulationResponse[]; method: string; state_carried: boolean }> {
  const v1 = await rpcTry<Array<{ calls: SimV1Call[] }>>(url, "eth_simulateV1", [{ blockStateCalls: [{ calls: calls.map(callObject) }], validation: false, traceTransfers: true }, "latest"]);
  if (v1.ok) {
    const results = v1.result[0]?.calls ?? [];
    const carried: Delta = new Map();
    const simulations: SimulationResponse[] = [];
    for (const [i, call] of calls.entries()) {
      const r = results[i];
      const base = { simulation_id: randomUUID(), from: getAddress(call.from), method: "eth_simulateV1" };
      if (!r) {
        simulations.push({ ...base, status: "error", gas_used: null, balance_changes: [], revert_reason: null, error: "The node returned no result for this transaction" });
        continue;
      }
      if (r.status !== "0x1") {
        simulations.push({ ...base, status: "reverted", gas_used: BigInt(r.gasUsed).toString(), balance_changes: [], revert_reason: decodeRevert(r.error?.data ?? r.returnData, r.error?.message ?? ""), error: null });
        continue;
      }
      const deltas = deltasFromLogs(call, r.logs ?? []);
      simulations.push({ ...base, status: "success", gas_used: BigInt(r.gasUsed).toString(), balance_changes: await balanceChanges(url, deltas, carried), revert_reason: null, error: null });
      for (const [k, v] of deltas) carried.set(k, (carried.get(k) ?? 0n) + v);
    }
    return { simulations, method: "eth_simulateV1", state_carried: true };
  }
  if (!methodUnsupported(v1.error)) throw Object.assign(new Error(v1.error.message), { rpc: v1.error });
  const simulations: SimulationResponse[] = [];
  for (const call of calls) simulations.push(await simulateCall(url, call));
  return { simulations, method: "eth_call per transaction (node has no eth_simulateV1)", state_carried: false };
}
