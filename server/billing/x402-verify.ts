import { type Address, getAddress, type Hex, recoverTypedDataAddress } from "viem";
import { X402_VERSION, type X402PaymentPayload, ZX402PaymentPayload } from "../../lib/contract/x402";
import type { Db } from "../db";
import { TRANSFER_WITH_AUTHORIZATION_TYPES } from "../../lib/eip3009";
import { EIP3009_ABI, type X402Chain } from "./x402-chain";

/** A payment that cannot be taken: `reason` is the x402 error code, `message` says why in words. */
export class X402Refusal extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "X402Refusal";
  }
}

export type VerifiedPayment = {
  payload: X402PaymentPayload;
  payer: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
  signature: Hex;
};

/** Base64 of a JSON object a few hundred bytes long; anything far larger is not a payment. */
const MAX_HEADER_CHARS = 4096;
/** The authorization must outlive settlement by this much (a block or two on any chain). */
const SETTLE_MARGIN_SECONDS = 6n;

function decode(header: string): X402PaymentPayload {
  if (header.length > MAX_HEADER_CHARS || !/^[A-Za-z0-9+/=_-]+$/.test(header)) throw new X402Refusal("invalid_payload", "X-PAYMENT must be base64 of the x402 payment payload");
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(header, "base64").toString("utf8"));
  } catch {
    throw new X402Refusal("invalid_payload", "X-PAYMENT is not base64 of a JSON payment payload");
  }
  const parsed = ZX402PaymentPayload.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new X402Refusal("invalid_payload", `X-PAYMENT payload: ${issue.path.join(".") || "body"} ${issue.message}`.slice(0, 200));
  }
  return parsed.data;
}

/**
 * Everything that can be checked before money moves, cheapest first: shape, protocol, recipient,
 * amount, validity window, the payer's signature over the token's EIP-712 domain (which also binds
 * the asset and chain), then the nonce unused in our database and on chain, and the payer's balance.
 * Passing does not reserve the nonce: the caller claims it with a unique insert before settling.
 */
export async function verifyPayment(db: Db, chain: X402Chain, header: string, nowSeconds: bigint): Promise<VerifiedPayment> {
  const payload = decode(header);
  const cfg = chain.config;
  if (payload.x402Version !== X402_VERSION) throw new X402Refusal("invalid_x402_version", `x402Version must be ${X402_VERSION}`);
  if (payload.scheme !== "exact") throw new X402Refusal("unsupported_scheme", "Only the exact scheme is accepted");
  if (payload.network !== cfg.network) throw new X402Refusal("invalid_network", `Payments are taken on ${cfg.network}`);
  const a = payload.payload.authorization;
  if (getAddress(a.to) !== chain.payTo) throw new X402Refusal("invalid_exact_evm_payload_recipient_mismatch", `The authorization must pay ${chain.payTo}`);
  const value = BigInt(a.value);
  if (value < cfg.price) throw new X402Refusal("invalid_exact_evm_payload_authorization_value", `The authorization pays ${value}; one request costs ${cfg.price}`);
  const validAfter = BigInt(a.validAfter);
  const validBefore = BigInt(a.validBefore);
  if (validAfter > nowSeconds) throw new X402Refusal("invalid_exact_evm_payload_authorization_valid_after", "The authorization is not valid yet (validAfter is in the future)");
  if (validBefore < nowSeconds + SETTLE_MARGIN_SECONDS) throw new X402Refusal("invalid_exact_evm_payload_authorization_valid_before", "The authorization has expired (validBefore has passed)");
  const payer = getAddress(a.from);
  const nonce = a.nonce.toLowerCase() as Hex;
  const signature = payload.payload.signature as Hex;
  let signer: Address;
  try {
    signer = await recoverTypedDataAddress({
      domain: await chain.domain(),
      types: TRANSFER_WITH_AUTHORIZATION_TYPES,
      primaryType: "TransferWithAuthorization",
      message: { from: payer, to: getAddress(a.to), value, validAfter, validBefore, nonce },
      signature,
    });
  } catch (e) {
    if (e instanceof X402Refusal) throw e;
    throw new X402Refusal("invalid_exact_evm_payload_signature", "The authorization's signature is malformed");
  }
  if (getAddress(signer) !== payer) throw new X402Refusal("invalid_exact_evm_payload_signature", "The authorization is not signed by its from address for this token and chain");
  const used = await db.x402Payment.findUnique({ where: { network_asset_payer_nonce: { network: cfg.network, asset: chain.asset, payer, nonce } }, select: { id: true } });
  if (used) throw new X402Refusal("invalid_transaction_state", "This authorization was already presented; sign a new one");
  const [onChainUsed, balance] = await Promise.all([
    chain.client.readContract({ address: chain.asset, abi: EIP3009_ABI, functionName: "authorizationState", args: [payer, nonce] }),
    chain.client.readContract({ address: chain.asset, abi: EIP3009_ABI, functionName: "balanceOf", args: [payer] }),
  ]);
  if (onChainUsed) throw new X402Refusal("invalid_transaction_state", "This authorization's nonce is already used on chain; sign a new one");
  if (balance < value) throw new X402Refusal("insufficient_funds", "The payer's balance does not cover the authorization");
  return { payload, payer, value, validAfter, validBefore, nonce, signature };
}
