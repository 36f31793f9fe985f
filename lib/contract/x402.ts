import { z } from "@hono/zod-openapi";

/**
 * x402 (version 1) as Talon speaks it: the `exact` scheme on an EVM chain, paid with an EIP-3009
 * `transferWithAuthorization` of a USDC-style token. Field names are the protocol's own (camelCase),
 * so stock x402 clients read Talon's 402 and Talon reads their `X-PAYMENT` header.
 */
export const X402_VERSION = 1;
export const X402_PAYMENT_HEADER = "X-PAYMENT";
export const X402_PAYMENT_RESPONSE_HEADER = "X-PAYMENT-RESPONSE";

const ZAddress = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");
const ZUint = z.string().regex(/^\d{1,78}$/, "must be a decimal whole number");

export const ZX402PaymentRequirements = z
  .object({
    scheme: z.literal("exact"),
    network: z.string().max(64),
    maxAmountRequired: ZUint.openapi({ description: "Atomic units of the asset for this one request" }),
    resource: z.string().max(2048),
    description: z.string().max(500),
    mimeType: z.string().max(100),
    payTo: ZAddress,
    maxTimeoutSeconds: z.number().int(),
    asset: ZAddress.openapi({ description: "The EIP-3009 token contract" }),
    extra: z.object({ name: z.string().max(100), version: z.string().max(20) }).openapi({ description: "The token's EIP-712 domain name and version" }),
  })
  .openapi("X402PaymentRequirements");

export const ZX402Authorization = z.strictObject({
  from: ZAddress,
  to: ZAddress,
  value: ZUint,
  validAfter: ZUint,
  validBefore: ZUint,
  nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 32 bytes of hex"),
});

/** The decoded `X-PAYMENT` header (base64 of this JSON). */
export const ZX402PaymentPayload = z.strictObject({
  x402Version: z.number().int(),
  scheme: z.string().max(32),
  network: z.string().max(64),
  payload: z.strictObject({
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte ECDSA signature"),
    authorization: ZX402Authorization,
  }),
});

/** The decoded `X-PAYMENT-RESPONSE` header. */
export const ZX402SettlementResponse = z
  .object({
    success: z.boolean(),
    errorReason: z.string().max(200).optional(),
    transaction: z.string().max(100),
    network: z.string().max(64),
    payer: z.string().max(42),
  })
  .openapi("X402SettlementResponse");

export const ZX402WellKnown = z
  .object({
    x402Version: z.number().int(),
    enabled: z.boolean().openapi({ description: "false: this server does not take x402 payments" }),
    description: z.string(),
    applies_to: z.string().openapi({ description: "Which requests can be paid this way" }),
    accepts: z.array(ZX402PaymentRequirements.omit({ resource: true })),
  })
  .openapi("X402Discovery");

export const ZX402Payment = z
  .object({
    id: z.string(),
    network: z.string(),
    asset: z.string(),
    payer: z.string(),
    pay_to: z.string(),
    amount: z.string().openapi({ description: "Atomic units of the asset" }),
    status: z.enum(["settling", "settled", "failed"]),
    tx_hash: z.string().nullable(),
    resource: z.string().openapi({ description: "Method and path of the request paid for (no query string)" }),
    error: z.string().nullable(),
    created_at: z.string(),
    settled_at: z.string().nullable(),
  })
  .openapi("X402Payment");

export const ZX402PaymentsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ param: { name: "limit", in: "query" } }),
});

export const ZX402PaymentsResponse = z.object({ payments: z.array(ZX402Payment) }).openapi("X402Payments");

export type X402PaymentRequirements = z.infer<typeof ZX402PaymentRequirements>;
export type X402PaymentPayload = z.infer<typeof ZX402PaymentPayload>;
export type X402SettlementResponse = z.infer<typeof ZX402SettlementResponse>;
export type X402Payment = z.infer<typeof ZX402Payment>;
export type X402WellKnown = z.infer<typeof ZX402WellKnown>;
