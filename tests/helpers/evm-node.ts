import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { encodeAbiParameters, type Hex } from "viem";
import { freePort } from "../../scripts/talon-process";
import contracts from "./evm/contracts.json";

/**
 * A real local EVM chain for crypto-proxy tests: Hardhat 2's JSON-RPC node (EDR inside, chain id
 * 31337, 20 funded and unlocked accounts, a block every 100 ms) started on a free loopback port, stopped by close().
 * Contracts come from ./evm/contracts.json (ABI + bytecode compiled once by
 * scripts/evm/compile-test-contracts.cjs), so no compiler runs in tests.
 */
export type EvmNode = {
  url: string;
  accounts: Hex[];
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  /** eth_sendTransaction from an unlocked account; waits for the receipt (a block every 100 ms). */
  send(tx: { from: Hex; to?: Hex; value?: bigint; data?: Hex }): Promise<{ hash: Hex; contractAddress: Hex | null; status: Hex }>;
  deploy(name: "TestToken" | "Reverter" | "TestUsdc", args?: { types: { type: string }[]; values: unknown[] }): Promise<Hex>;
  balance(address: Hex): Promise<bigint>;
  close(): Promise<void>;
};

export const CONTRACTS = contracts.contracts;
const HERE = path.dirname(fileURLToPath(import.meta.url));

export async function startEvmNode(): Promise<EvmNode> {
  const root = path.resolve(HERE, "../..");
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(root, "node_modules/hardhat/internal/cli/cli.js"), "node", "--hostname", "127.0.0.1", "--port", String(port), "--config", path.join(HERE, "evm/hardhat.config.cjs")],
    { cwd: root, env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true", DO_NOT_TRACK: "1" }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  const url = `http://127.0.0.1:${port}`;
  let id = 1;
  const rpc = async <T>(method: string, params: unknown[] = []): Promise<T> => {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: id++, method, params }) });
    const body = (await res.json()) as { result?: T; error?: { message: string } };
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result as T;
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited: ${stderr}`);
    try {
      await rpc("eth_chainId");
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`hardhat node did not start: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const accounts = await rpc<Hex[]>("eth_accounts");
  const send: EvmNode["send"] = async (tx) => {
    const hash = await rpc<Hex>("eth_sendTransaction", [{ from: tx.from, to: tx.to, value: tx.value !== undefined ? `0x${tx.value.toString(16)}` : undefined, data: tx.data }]);
    for (let i = 0; i < 100; i++) {
      const receipt = await rpc<{ contractAddress: Hex | null; status: Hex } | null>("eth_getTransactionReceipt", [hash]);
      if (receipt) return { hash, contractAddress: receipt.contractAddress, status: receipt.status };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${hash} was not mined within 5 s`);
  };
  return {
    url,
    accounts,
    rpc,
    send,
    async deploy(name, args) {
      const ctor = args ? encodeAbiParameters(args.types, args.values).slice(2) : "";
      const r = await send({ from: accounts[0]!, data: `${CONTRACTS[name].bytecode}${ctor}` as Hex });
      if (r.status !== "0x1" || !r.contractAddress) throw new Error(`deploying ${name} failed`);
      return r.contractAddress;
    },
    async balance(address) {
      return BigInt(await rpc<Hex>("eth_getBalance", [address, "latest"]));
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
