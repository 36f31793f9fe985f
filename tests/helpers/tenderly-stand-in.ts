import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeAbiParameters, getAddress, type Hex } from "viem";

/**
 * A loopback stand-in for Tenderly's Simulation API on its documented shapes:
 * `POST /api/v1/account/{account}/project/{project}/simulate` ({network_id, from, to, input, value,
 * gas, …} → {transaction: {status, gas_used, error_message, transaction_info: {asset_changes,
 * call_trace}}, simulation}) and `/simulate-bundle` ({simulations: [...]} → {simulation_results: [...]},
 * stopping after the first failure as Tenderly does), authenticated by `X-Access-Key`.
 * Its answers are computed, not canned: every simulation runs on the real local node with
 * eth_simulateV1 (state carried through a bundle, native transfers traced), so gas, reverts and
 * asset changes are the chain's. It records every request (headers included). `mode` makes it fail:
 * "http-503" answers 503 with Tenderly's error body, "hang-up" cuts the connection.
 */
export type RecordedRequest = { method: string; path: string; headers: IncomingHttpHeaders; body: string };

export type TenderlyStandIn = {
  url: string;
  requests: RecordedRequest[];
  mode: "ok" | "http-503" | "hang-up";
  /** The key it accepts; change it to play a key revoked at Tenderly (401 invalid_api_key). */
  accessKey: string;
  close(): Promise<void>;
};

const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
const NATIVE_LOGGER = "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
const ZERO = "0x0000000000000000000000000000000000000000";

type SimRequest = { network_id: string; from: string; to: string; input?: string; value?: string | number; gas?: number };
type SimV1Call = { status: Hex; gasUsed: Hex; returnData: Hex; logs?: { address: Hex; topics: Hex[]; data: Hex }[]; error?: { data?: Hex } };

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (b: Buffer) => chunks.push(b));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });

async function rpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

const topicAddress = (t: Hex) => getAddress(`0x${t.slice(26)}`).toLowerCase();

/** One eth_simulateV1 result in Tenderly's shape. */
function tenderlyResult(req: SimRequest, r: SimV1Call) {
  const ok = r.status === "0x1";
  const assetChanges: unknown[] = [];
  let nativeLogged = false;
  for (const log of ok ? (r.logs ?? []) : []) {
    if (log.topics.length !== 3 || log.topics[0]?.toLowerCase() !== TRANSFER_TOPIC) continue;
    const native = log.address.toLowerCase() === NATIVE_LOGGER;
    nativeLogged ||= native;
    const from = topicAddress(log.topics[1]!);
    const to = topicAddress(log.topics[2]!);
    assetChanges.push({
      token_info: native ? { standard: "NativeCurrency", type: "Native", symbol: "ETH", decimals: 18 } : { standard: "ERC20", type: "Fungible", contract_address: log.address.toLowerCase() },
      type: from === ZERO ? "Mint" : to === ZERO ? "Burn" : "Transfer",
      ...(from === ZERO ? {} : { from }),
      ...(to === ZERO ? {} : { to }),
      raw_amount: BigInt(log.data).toString(),
    });
  }
  const value = BigInt(req.value ?? 0);
  if (ok && !nativeLogged && value > 0n) {
    assetChanges.unshift({ token_info: { standard: "NativeCurrency", type: "Native", symbol: "ETH", decimals: 18 }, type: "Transfer", from: req.from.toLowerCase(), to: req.to.toLowerCase(), raw_amount: value.toString() });
  }
  const output = (!ok && r.error?.data) || r.returnData;
  let errorReason: string | undefined;
  if (!ok && output.startsWith("0x08c379a0")) errorReason = decodeAbiParameters([{ type: "string" }], `0x${output.slice(10)}`)[0];
  const gasUsed = Number(BigInt(r.gasUsed));
  return {
    transaction: {
      status: ok,
      gas_used: gasUsed,
      from: req.from,
      to: req.to,
      network_id: req.network_id,
      ...(ok ? {} : { error_message: "execution reverted" }),
      transaction_info: { asset_changes: assetChanges, call_trace: { output, ...(errorReason ? { error_reason: errorReason } : {}) } },
    },
    simulation: { id: crypto.randomUUID(), network_id: req.network_id, status: ok, gas_used: gasUsed },
    contracts: [],
  };
}

export async function startTenderlyStandIn(opts: { nodeUrl: string; accessKey: string; account: string; project: string }): Promise<TenderlyStandIn> {
  const chainId = String(BigInt(await rpc<Hex>(opts.nodeUrl, "eth_chainId", [])));
  const base = `/api/v1/account/${opts.account}/project/${opts.project}`;
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const simulate = async (reqs: SimRequest[]) => {
    const calls = reqs.map((r) => ({ from: r.from, to: r.to, data: r.input ?? "0x", value: `0x${BigInt(r.value ?? 0).toString(16)}`, ...(r.gas ? { gas: `0x${r.gas.toString(16)}` } : {}) }));
    const [block] = await rpc<Array<{ calls: SimV1Call[] }>>(opts.nodeUrl, "eth_simulateV1", [{ blockStateCalls: [{ calls }], validation: false, traceTransfers: true }, "latest"]);
    const results = [];
    for (const [i, r] of (block?.calls ?? []).entries()) {
      results.push(tenderlyResult(reqs[i]!, r));
      if (r.status !== "0x1") break; // Tenderly does not run the rest of a bundle after a failure.
    }
    return results;
  };
  const stand: TenderlyStandIn = { url: "", requests: [], mode: "ok", accessKey: opts.accessKey, close: async () => {} };
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    stand.requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
    if (stand.mode === "hang-up") return void req.socket.destroy();
    if (stand.mode === "http-503") return json(res, 503, { error: { id: crypto.randomUUID(), slug: "service_unavailable", message: "Service unavailable" } });
    if (req.headers["x-access-key"] !== stand.accessKey) return json(res, 401, { error: { id: crypto.randomUUID(), slug: "invalid_api_key", message: "Invalid API key" } });
    if (req.method !== "POST" || (req.url !== `${base}/simulate` && req.url !== `${base}/simulate-bundle`)) return json(res, 404, { error: { slug: "not_found", message: "Not found" } });
    try {
      const parsed = JSON.parse(body) as SimRequest & { simulations?: SimRequest[] };
      const reqs = req.url.endsWith("/simulate-bundle") ? (parsed.simulations ?? []) : [parsed];
      if (reqs.length === 0 || reqs.some((r) => r.network_id !== chainId)) return json(res, 400, { error: { slug: "invalid_network", message: "Unsupported network" } });
      const results = await simulate(reqs);
      return json(res, 200, req.url.endsWith("/simulate-bundle") ? { simulation_results: results } : results[0]);
    } catch (e) {
      return json(res, 500, { error: { slug: "internal_error", message: e instanceof Error ? e.message : "error" } });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  stand.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stand.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return stand;
}

/** A loopback relay in front of a JSON-RPC node that records what it forwards (headers included). */
export async function startRecordingRelay(upstream: string): Promise<{ url: string; requests: RecordedRequest[]; close(): Promise<void> }> {
  const requests: RecordedRequest[] = [];
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
    const answer = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body });
    res.writeHead(answer.status, { "content-type": "application/json" });
    res.end(await answer.text());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
