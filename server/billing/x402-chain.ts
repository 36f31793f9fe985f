import { type Address, createPublicClient, getAddress, http, type PublicClient } from "viem";
import type { X402Config } from "../config";
import { findChain } from "../intents/chains";
import type { Runtime } from "../runtime";

/** The slice of an EIP-3009 token (FiatTokenV2) that x402 settlement uses. */
export const EIP3009_ABI = [
  { type: "function", name: "name", stateMutability: "view", inputs: [], outputs: [{ type: "string" }] },
  { type: "function", name: "version", stateMutability: "view", inputs: [], outputs: [{ type: "string" }] },
  { type: "function", name: "balanceOf", stateMutability: "view", inputs: [{ name: "account", type: "address" }], outputs: [{ type: "uint256" }] },
  {
    type: "function",
    name: "authorizationState",
    stateMutability: "view",
    inputs: [
      { name: "authorizer", type: "address" },
      { name: "nonce", type: "bytes32" },
    ],
    outputs: [{ type: "bool" }],
  },
  {
    type: "function",
    name: "transferWithAuthorization",
    stateMutability: "nonpayable",
    inputs: [
      { name: "from", type: "address" },
      { name: "to", type: "address" },
      { name: "value", type: "uint256" },
      { name: "validAfter", type: "uint256" },
      { name: "validBefore", type: "uint256" },
      { name: "nonce", type: "bytes32" },
      { name: "v", type: "uint8" },
      { name: "r", type: "bytes32" },
      { name: "s", type: "bytes32" },
    ],
    outputs: [],
  },
] as const;

export type X402Chain = {
  config: X402Config;
  chainId: number;
  rpcUrl: string;
  client: PublicClient;
  asset: Address;
  payTo: Address;
  /** The token's EIP-712 domain: configured, or read from name()/version() once. */
  domain(): Promise<{ name: string; version: string; chainId: number; verifyingContract: Address }>;
};

const CHAINS = new WeakMap<Runtime, X402Chain>();

/** The runtime's x402 chain access, or null when x402 is not configured. Config guarantees an RPC URL. */
export function x402Chain(rt: Runtime): X402Chain | null {
  const config = rt.config.x402;
  if (!config) return null;
  let c = CHAINS.get(rt);
  if (!c) {
    const rpcUrl = rt.config.chainRpcUrls[config.network]!;
    const chainId = findChain(config.network, rt.config.chainRpcUrls)!.chain_id;
    const client = createPublicClient({ transport: http(rpcUrl, { timeout: 15_000, retryCount: 1 }) }) as PublicClient;
    const asset = getAddress(config.asset);
    let domain: ReturnType<X402Chain["domain"]> | null = null;
    c = {
      config,
      chainId,
      rpcUrl,
      client,
      asset,
      payTo: getAddress(config.payTo),
      domain() {
        domain ??= (async () => {
          const [name, version] = await Promise.all([
            config.assetName ?? client.readContract({ address: asset, abi: EIP3009_ABI, functionName: "name" }),
            config.assetVersion ?? client.readContract({ address: asset, abi: EIP3009_ABI, functionName: "version" }),
          ]);
          return { name, version, chainId, verifyingContract: asset };
        })().catch((e: unknown) => {
          // Not cached: the next request asks the token again.
          domain = null;
          throw e;
        });
        return domain;
      },
    };
    CHAINS.set(rt, c);
  }
  return c;
}
