import type { z } from "@hono/zod-openapi";
import type { ZChainListResponse, ZChainResponse } from "../../lib/contract/chains";
import { CHAINS, type ChainDef } from "../../lib/chains";
import { ApiError } from "../http/errors";

/**
 * The default chain registry (skill card "Supported Chains"). Static: the only per-deployment part
 * is the RPC URL, which comes from TALON_CHAIN_RPC_URLS; a chain without one is listed but disabled.
 * The list itself is lib/chains.ts (the SDK shares it). No imports beyond that, types and errors:
 * server/config validates chain names against this list.
 */
const CURRENCIES = {
  ETH: { name: "Ether", symbol: "ETH", decimals: 18 },
  POL: { name: "POL", symbol: "POL", decimals: 18 },
} as const;

export const CHAIN_NAMES: readonly string[] = CHAINS.map((c) => c.name);
/** The registry's entries (and their RPC URLs, from the configuration) date from this process's start. */
const REGISTRY_LOADED_AT = new Date().toISOString();

export type Chain = z.infer<typeof ZChainResponse>;
type RpcUrls = Readonly<Record<string, string>>;
type ChainsCtx = { rt: { config: { chainRpcUrls: RpcUrls } } };

function toChain(def: ChainDef, rpcUrls: RpcUrls): Chain {
  const rpcUrl = Object.hasOwn(rpcUrls, def.name) ? rpcUrls[def.name]! : null;
  return {
    id: def.name,
    name: def.name,
    display_name: def.displayName,
    chain_id: def.chainId,
    // Origin only: provider URLs carry API keys in their path, query or userinfo, and every caller
    // (agents included) may list chains.
    rpc_url: rpcUrl && new URL(rpcUrl).origin,
    ws_url: null,
    explorer_url: def.explorerUrl,
    native_currency: { ...CURRENCIES[def.currency] },
    is_testnet: def.testnet,
    is_enabled: rpcUrl !== null,
    created_at: REGISTRY_LOADED_AT,
    updated_at: REGISTRY_LOADED_AT,
  };
}

/** A chain by name (case-insensitive) or decimal chain id; undefined when unknown. */
export function findChain(identifier: string, rpcUrls: RpcUrls): Chain | undefined {
  const key = identifier.trim().toLowerCase();
  const def = /^\d{1,15}$/.test(key) ? CHAINS.find((c) => c.chainId === Number(key)) : CHAINS.find((c) => c.name === key);
  return def && toChain(def, rpcUrls);
}

export function listChains(ctx: ChainsCtx): z.infer<typeof ZChainListResponse> {
  return { chains: CHAINS.map((c) => toChain(c, ctx.rt.config.chainRpcUrls)) };
}

/**
 * The RPC endpoint a transaction on `chain` goes to. A chain without one cannot take transactions:
 * 422 naming the variable that configures it (never the URL of another chain).
 */
export function chainRpcUrl(ctx: ChainsCtx, chain: Chain): string {
  const url = Object.hasOwn(ctx.rt.config.chainRpcUrls, chain.name) ? ctx.rt.config.chainRpcUrls[chain.name] : undefined;
  if (!url) {
    throw new ApiError(422, `Chain ${chain.name} has no RPC URL: add ${chain.name}=<url> to TALON_CHAIN_RPC_URLS and restart Talon`);
  }
  return url;
}

export function getChain(ctx: ChainsCtx, identifier: string): Chain {
  const chain = findChain(identifier, ctx.rt.config.chainRpcUrls);
  if (!chain) throw ApiError.notFound("Unknown chain; GET /v1/chains lists supported chains");
  return chain;
}
