import { z } from "@hono/zod-openapi";
import { ZIsoDate, ZUuid } from "./common";

/**
 * Crypto proxy: an agent's EVM transactions, signed inside Talon with a key the agent never sees.
 * Amounts are decimal strings (ETH in requests, wei in responses), never floats.
 */
const ZAddress = z.string().max(42).regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address");
const ZWei = z.string().max(78).regex(/^\d{1,78}$/, "must be a decimal integer amount in wei");
const ZHexData = z
  .string()
  .max(48_000)
  .regex(/^0x([0-9a-fA-F]{2})*$/, "must be 0x-prefixed hex calldata with whole bytes");
const ZChainRef = z.string().min(1).max(64).openapi({ description: "Chain name or numeric chain id (GET /v1/chains)", example: "base" });
const ZValueEth = z
  .string()
  .max(64)
  .regex(/^\d{1,40}(\.\d{1,18})?$/, "must be a decimal ETH amount with at most 18 decimals")
  .openapi({ example: "0.01" });
const ZSigningKeyPath = z
  .string()
  .min(1)
  .max(512)
  .openapi({ description: "Vault path of a private_key secret (default keys/{chain}-signer), or hsm:<address> for an HSM-generated key" });
const ZGasLimit = z.number().int().min(21_000).max(30_000_000);

const simulationFields = {
  to: ZAddress,
  value: ZValueEth,
  chain: ZChainRef,
  data: ZHexData.optional(),
  signing_key_path: ZSigningKeyPath.optional(),
  vault_id: ZUuid.optional().openapi({ description: "Vault holding signing_key_path; default: the one vault of the org that holds it" }),
  gas_limit: ZGasLimit.optional(),
};

export const ZSimulateTransactionRequest = z.object(simulationFields).strict().openapi("SimulateTransactionRequest");

export const ZSubmitTransactionRequest = z
  .object({
    ...simulationFields,
    nonce: z.number().int().min(0).max(2 ** 53 - 1).optional(),
    gas_price: ZWei.optional().openapi({ description: "Legacy gas price in wei" }),
    max_fee_per_gas: ZWei.optional().openapi({ description: "EIP-1559 max fee in wei (type 2)" }),
    max_priority_fee_per_gas: ZWei.optional(),
    simulate_first: z.boolean().optional().openapi({ description: "Simulate before signing (default true); a reverting transaction is refused with 422" }),
  })
  .strict()
  .openapi("SubmitTransactionRequest");

export const ZSimulateBundleRequest = z
  .object({ transactions: z.array(ZSimulateTransactionRequest).min(1).max(16) })
  .strict()
  .openapi("SimulateBundleRequest");

export const TX_STATUSES = ["pending", "signed", "broadcast", "confirmed", "failed", "simulation_failed"] as const;

export const ZGuardrailDecision = z
  .object({
    rule: z.string().max(64),
    decision: z.enum(["allowed", "refused"]),
    limit: z.string().max(2048).nullable(),
  })
  .openapi("GuardrailDecision");

export const ZTransaction = z
  .object({
    id: ZUuid,
    agent_id: ZUuid,
    chain: z.string().max(64),
    chain_id: z.number().int(),
    from: z.string().max(42),
    to: z.string().max(42),
    value_wei: z.string().max(80),
    data: z.string().max(48_000),
    nonce: z.number().int().nullable(),
    tx_type: z.enum(["legacy", "eip1559"]),
    status: z.enum(TX_STATUSES),
    tx_hash: z.string().max(66).nullable(),
    signed_tx: z.string().max(100_000).optional().openapi({ description: "Only in the submit response, or with ?include_signed_tx=true for humans" }),
    error_message: z
      .string()
      .max(2048)
      .nullable()
      .openapi({ description: 'On a "signed" row, "Broadcast outcome unknown: …" means the node may hold the transaction: its nonce stays held and GET settles it from the chain' }),
    simulation_status: z.string().max(32).nullable(),
    guardrails: z.array(ZGuardrailDecision).max(16),
    explorer_url: z.string().max(2048).nullable(),
    created_at: ZIsoDate,
    signed_at: ZIsoDate.nullable(),
  })
  .openapi("Transaction");

export const ZTransactionList = z
  .object({ transactions: z.array(ZTransaction).max(100), count: z.number().int(), limit: z.number().int(), offset: z.number().int() })
  .openapi("TransactionList");

export const ZTransactionListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  offset: z.coerce.number().int().min(0).max(1_000_000).optional(),
});

export const ZTransactionGetQuery = z.object({
  include_signed_tx: z.enum(["true", "false"]).optional(),
});

export const ZTxIdParam = z.object({
  id: ZUuid.openapi({ param: { name: "id", in: "path" } }),
  tx_id: ZUuid.openapi({ param: { name: "tx_id", in: "path" } }),
});

export const ZBalanceChange = z
  .object({
    address: z.string().max(42),
    token: z.string().max(42).openapi({ description: "\"native\" or the ERC-20 contract address" }),
    before: z.string().max(80),
    after: z.string().max(80),
    change: z.string().max(81),
  })
  .openapi("BalanceChange");

export const ZSimulation = z
  .object({
    simulation_id: ZUuid,
    status: z.enum(["success", "reverted", "error"]),
    from: z.string().max(42),
    gas_used: z.string().max(32).nullable(),
    balance_changes: z.array(ZBalanceChange).max(256),
    revert_reason: z.string().max(2048).nullable(),
    error: z.string().max(2048).nullable(),
    method: z.string().max(64).openapi({ description: "How it was simulated: tenderly, eth_call+debug_traceCall, eth_simulateV1, …" }),
    warnings: z.array(z.string().max(500)).max(8).optional().openapi({ description: "Present when the configured method could not run (e.g. Tenderly unreachable) and another did" }),
  })
  .openapi("Simulation");

export const ZSimulationBundle = z
  .object({
    simulations: z.array(ZSimulation).max(16),
    method: z.string().max(64),
    state_carried: z.boolean().openapi({ description: "True when each transaction saw the state left by the ones before it" }),
    warnings: z.array(z.string().max(500)).max(8).optional().openapi({ description: "Present when the configured method could not run (e.g. Tenderly unreachable) and another did" }),
  })
  .openapi("SimulationBundle");

export const ZCreateSigningKeyRequest = z.object({ chain: ZChainRef }).strict().openapi("CreateSigningKeyRequest");

export const ZSigningKey = z
  .object({
    id: ZUuid,
    agent_id: ZUuid,
    chain: z.string().max(64),
    address: z.string().max(42),
    signing_key_path: z.string().max(64),
    created_at: ZIsoDate,
  })
  .openapi("SigningKey");

export const ZSigningKeyList = z.object({ signing_keys: z.array(ZSigningKey).max(1000) }).openapi("SigningKeyList");

export const ZSigningKeyParam = z.object({
  id: ZUuid.openapi({ param: { name: "id", in: "path" } }),
  key_id: ZUuid.openapi({ param: { name: "key_id", in: "path" } }),
});

export type SubmitTransactionRequest = z.infer<typeof ZSubmitTransactionRequest>;
export type SimulateTransactionRequest = z.infer<typeof ZSimulateTransactionRequest>;
export type TransactionResponse = z.infer<typeof ZTransaction>;
export type SimulationResponse = z.infer<typeof ZSimulation>;
export type SigningKeyResponse = z.infer<typeof ZSigningKey>;
