import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { encodeAbiParameters, type Hex } from "viem";
import { freePort } from "../../scripts/talon-process";
import { CONTRACTS } from "./evm-node";

/**
 * A real Anvil node (Foundry's, from the npm package @foundry-rs/anvil, whose platform package ships
 * the binary): chain id 31337, the same 10 funded, unlocked accounts as Hardhat's, a block per
 * transaction. Used where Hardhat (EDR) falls short: Anvil answers eth_simulateV1.
 */
export type AnvilNode = {
  url: string;
  accounts: Hex[];
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  deploy(name: "TestToken" | "Reverter", args?: { types: { type: string }[]; values: unknown[] }): Promise<Hex>;
  /** The transaction's receipt once it is mined: Anvil answers eth_sendTransaction before it mines. */
  receipt<T extends { status: Hex }>(hash: Hex): Promise<T>;
  close(): Promise<void>;
};

function anvilBinary(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  return path.join(path.dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), "bin", "anvil");
}

export async function startAnvilNode(): Promise<AnvilNode> {
  const port = await freePort();
  const child: ChildProcess = spawn(anvilBinary(), ["--host", "127.0.0.1", "--port", String(port), "--chain-id", "31337", "--silent"], { stdio: ["ignore", "ignore", "pipe"] });
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
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`anvil exited: ${stderr}`);
    try {
      await rpc("eth_chainId");
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`anvil did not start: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const accounts = await rpc<Hex[]>("eth_accounts");
  const receipt = async <T extends { status: Hex }>(hash: Hex): Promise<T> => {
    for (let i = 0; i < 200; i++) {
      const r = await rpc<T | null>("eth_getTransactionReceipt", [hash]);
      if (r) return r;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`transaction ${hash}: no receipt within 10 s`);
  };
  return {
    url,
    accounts,
    rpc,
    receipt,
    async deploy(name, args) {
      const ctor = args ? encodeAbiParameters(args.types, args.values).slice(2) : "";
      const hash = await rpc<Hex>("eth_sendTransaction", [{ from: accounts[0], data: `${CONTRACTS[name].bytecode}${ctor}` }]);
      const r = await receipt<{ contractAddress: Hex | null; status: Hex }>(hash);
      if (r.status !== "0x1" || !r.contractAddress) throw new Error(`deploying ${name} failed`);
      return r.contractAddress;
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
