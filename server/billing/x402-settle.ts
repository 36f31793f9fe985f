import { type Address, encodeFunctionData, getAddress, type Hex, hexToSignature, toHex } from "viem";
import { publicKeyToAddress } from "viem/accounts";
import { X402_VERSION, type X402PaymentRequirements, ZX402SettlementResponse } from "../../lib/contract/x402";
import { releaseNonce, reserveNonce } from "../intents/nonces";
import { finishHsmSignature, signTransaction } from "../intents/signing";
import { log } from "../log";
import type { Runtime } from "../runtime";
import { EIP3009_ABI, type X402Chain } from "./x402-chain";
import { X402Refusal, type VerifiedPayment } from "./x402-verify";

/**
 * Moves the money of a verified, claimed authorization: `transferWithAuthorization` sent by Talon's
 * own HSM settlement key (its gas, the payer's tokens), or handed to the configured facilitator.
 * Returns the transaction hash once the chain has mined it successfully; anything else is an
 * X402Refusal whose message says why (the caller answers 402 with it).
 */
export async function settlePayment(rt: Runtime, chain: X402Chain, p: VerifiedPayment, requirements: X402PaymentRequirements): Promise<Hex> {
  const s = chain.config.settlement;
  return s.kind === "hsm" ? settleWithHsmKey(rt, chain, s.keyRef, p) : settleWithFacilitator(chain, s.url, p, requirements);
}

const RECEIPT_TIMEOUT_MS = 60_000;
const ADDRESSES = new WeakMap<Runtime, Promise<Address>>();

/** The settlement key's address (from its public point in the token), looked up once per runtime. */
export function settlementAddress(rt: Runtime, keyRef: string): Promise<Address> {
  let a = ADDRESSES.get(rt);
  if (!a) {
    a = (async () => {
      const keys = rt.keystore.secp256k1;
      if (!keys) throw new X402Refusal("unexpected_settle_error", "The settlement key needs the pkcs11 keystore");
      const pub = await keys.publicKey(keyRef);
      if (!pub) throw new X402Refusal("unexpected_settle_error", "The settlement key (TALON_X402_SETTLEMENT_KEY) is not in the token");
      return getAddress(publicKeyToAddress(toHex(pub)));
    })();
    a.catch(() => ADDRESSES.delete(rt));
    ADDRESSES.set(rt, a);
  }
  return a;
}

async function settleWithHsmKey(rt: Runtime, chain: X402Chain, keyRef: string, p: VerifiedPayment): Promise<Hex> {
  const from = await settlementAddress(rt, keyRef);
  const { r, s, v, yParity } = hexToSignature(p.signature);
  const data = encodeFunctionData({
    abi: EIP3009_ABI,
    functionName: "transferWithAuthorization",
    args: [p.payer, chain.payTo, p.value, p.validAfter, p.validBefore, p.nonce, Number(v ?? BigInt(27 + (yParity ?? 0))), r, s],
  });
  const client = chain.client;
  // A dry run first: a transfer the token would refuse costs no gas and names its reason.
  let gas: bigint;
  try {
    gas = await client.estimateGas({ account: from, to: chain.asset, data });
  } catch (e) {
    throw new X402Refusal("invalid_transaction_state", `The token refuses the transfer: ${revertReason(e)}`);
  }
  const fees = await client.estimateFeesPerGas();
  const pending = await client.getTransactionCount({ address: from, blockTag: "pending" });
  const ctx = { rt };
  const nonce = await reserveNonce(ctx, chain.chainId, from, pending);
  const keys = rt.keystore.secp256k1!;
  const signer = {
    address: from,
    kind: "hsm" as const,
    signDigest: async (digest: Hex) => finishHsmSignature(await keys.sign(keyRef, Buffer.from(digest.slice(2), "hex")), digest, from),
    dispose() {},
  };
  let hash: Hex;
  try {
    const signed = await signTransaction(signer, {
      type: "eip1559",
      chainId: chain.chainId,
      nonce,
      to: chain.asset,
      data,
      value: 0n,
      gas: (gas * 12n) / 10n,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    hash = await client.sendRawTransaction({ serializedTransaction: signed.signedTx });
  } catch (e) {
    await releaseNonce(ctx, chain.chainId, from, nonce).catch(() => undefined);
    log.warn("x402 settlement broadcast failed", { error: e instanceof Error ? e.name : "unknown" });
    throw new X402Refusal("unexpected_settle_error", "The settlement transaction could not be sent to the chain");
  }
  let status: "success" | "reverted";
  try {
    status = (await client.waitForTransactionReceipt({ hash, timeout: RECEIPT_TIMEOUT_MS, pollingInterval: 100 })).status;
  } catch {
    throw new X402Refusal("unexpected_settle_error", `The settlement transaction ${hash} was not mined in time`);
  }
  if (status !== "success") throw new X402Refusal("invalid_transaction_state", `The settlement transaction ${hash} reverted`);
  return hash;
}

/** The node's revert reason in words, never the RPC URL (viem puts it in its messages). */
function revertReason(e: unknown): string {
  const text = e instanceof Error ? e.message : "";
  const m = /reverted with reason string '([^']{1,200})'|reason: ([^\n]{1,200})|revert(?:ed)?:? ([^\n]{1,200})/i.exec(text);
  return (m?.[1] ?? m?.[2] ?? m?.[3] ?? "execution reverted").replace(/https?:\/\/\S+/g, "").trim();
}

async function settleWithFacilitator(chain: X402Chain, url: string, p: VerifiedPayment, requirements: X402PaymentRequirements): Promise<Hex> {
  const body = JSON.stringify({ x402Version: X402_VERSION, paymentPayload: p.payload, paymentRequirements: requirements });
  let res: Response;
  try {
    res = await fetch(`${url}/settle`, { method: "POST", headers: { "content-type": "application/json" }, body, signal: AbortSignal.timeout(RECEIPT_TIMEOUT_MS) });
  } catch {
    throw new X402Refusal("unexpected_settle_error", "The x402 facilitator did not answer");
  }
  const parsed = ZX402SettlementResponse.safeParse(await res.json().catch(() => null));
  if (!parsed.success) throw new X402Refusal("unexpected_settle_error", `The x402 facilitator answered HTTP ${res.status} without a settlement response`);
  const r = parsed.data;
  if (!r.success) throw new X402Refusal(r.errorReason ?? "unexpected_settle_error", `The x402 facilitator did not settle: ${r.errorReason ?? "no reason given"}`);
  if (!/^0x[0-9a-fA-F]{64}$/.test(r.transaction) || r.network !== chain.config.network) {
    throw new X402Refusal("unexpected_settle_error", "The x402 facilitator's settlement names no transaction on this network");
  }
  // The facilitator's word is checked against the chain: its transaction must be mined and successful.
  const hash = r.transaction as Hex;
  const receipt = await chain.client.waitForTransactionReceipt({ hash, timeout: RECEIPT_TIMEOUT_MS, pollingInterval: 250 }).catch(() => null);
  if (receipt?.status !== "success") throw new X402Refusal("invalid_transaction_state", `The facilitator's transaction ${hash} is not a successful one on ${chain.config.network}`);
  return hash;
}
