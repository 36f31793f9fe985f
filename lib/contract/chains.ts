import { z } from "@hono/zod-openapi";

/**
 * The chain registry. A chain's `id` is its registry name (stable, lower-case: `base`, `sepolia`), so
 * clients and transaction requests can use either field; `chain_id` is the EVM chain id.
 */
export const ZNativeCurrency = z
  .object({ name: z.string().max(64), symbol: z.string().max(16), decimals: z.number().int().min(0).max(36) })
  .openapi("NativeCurrency");

export const ZChainResponse = z
  .object({
    id: z.string().max(64).openapi({ description: "The chain's registry name (stable identifier)", example: "base" }),
    name: z.string().max(64),
    display_name: z.string().max(128),
    chain_id: z.number().int().positive(),
    rpc_url: z.string().max(2048).nullable().openapi({ description: "Configured RPC endpoint; null when none is configured" }),
    ws_url: z.string().max(2048).nullable().openapi({ description: "WebSocket RPC endpoint; Talon talks to chains over HTTP only, so always null" }),
    explorer_url: z.string().max(2048),
    native_currency: ZNativeCurrency,
    is_testnet: z.boolean(),
    is_enabled: z.boolean().openapi({ description: "True when an RPC URL is configured for the chain" }),
    created_at: z.string().openapi({ description: "The registry is built into Talon and configured at start: when this server loaded it" }),
    updated_at: z.string().openapi({ description: "Same as created_at: the registry changes only with a restart" }),
  })
  .openapi("Chain");

export const ZChainListResponse = z.object({ chains: z.array(ZChainResponse).max(256) }).openapi("ChainList");

export const ZChainParam = z.object({
  name_or_id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "name_or_id", in: "path" }, description: "Chain name (case-insensitive) or numeric chain id", example: "sepolia" }),
});
