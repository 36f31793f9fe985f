/**
 * x402 for Talon clients: pay for one request past the org's quota with an EIP-3009 authorization.
 * Dependency-free and browser-safe; signing is done by the caller's signer, whose shape a viem account
 * (`privateKeyToAccount(...)`, or a wallet client's `{ address, signTypedData }`) already has.
 *
 *   const paying = withPayment(fetch, account, { maxAmount: 10_000n });
 *   const talon = createClient({ baseUrl, token, fetch: paying });   // 402 → signed, retried once
 */

import { CHAINS } from "../chains";
import type * as x402 from "../contract/x402";
import { TRANSFER_WITH_AUTHORIZATION_TYPES } from "../eip3009";

export const X402_PAYMENT_HEADER = "X-PAYMENT";
export const X402_PAYMENT_RESPONSE_HEADER = "X-PAYMENT-RESPONSE";

type Hex = `0x${string}`;

/** One entry of a 402's `accepts` (lib/contract/x402.ts), with its addresses typed as hex for the signer. */
export type X402Requirement = Omit<x402.X402PaymentRequirements, "payTo" | "asset"> & { payTo: Hex; asset: Hex };

export type X402SettlementResponse = x402.X402SettlementResponse;

/** What signs the authorization: a viem LocalAccount fits as is. */
export type X402Signer = {
  address: Hex;
  signTypedData(args: {
    domain: { name: string; version: string; chainId: number; verifyingContract: Hex };
    types: typeof TRANSFER_WITH_AUTHORIZATION_TYPES;
    primaryType: "TransferWithAuthorization";
    message: { from: Hex; to: Hex; value: bigint; validAfter: bigint; validBefore: bigint; nonce: Hex };
  }): Promise<Hex>;
};

/** x402 network names → EIP-155 chain ids (Talon's chain registry). Others: pass `chainId`. */
const CHAIN_IDS: Readonly<Record<string, number>> = Object.fromEntries(CHAINS.map((c) => [c.name, c.chainId]));

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const UINT = /^\d{1,78}$/;

function asRequirement(v: unknown): X402Requirement | null {
  if (typeof v !== "object" || v === null) return null;
  const r = v as Record<string, unknown>;
  const extra = r.extra as Record<string, unknown> | undefined;
  const ok =
    r.scheme === "exact" &&
    typeof r.network === "string" &&
    typeof r.maxAmountRequired === "string" &&
    UINT.test(r.maxAmountRequired) &&
    typeof r.payTo === "string" &&
    ADDRESS.test(r.payTo) &&
    typeof r.asset === "string" &&
    ADDRESS.test(r.asset) &&
    typeof r.maxTimeoutSeconds === "number" &&
    typeof extra?.name === "string" &&
    typeof extra.version === "string";
  return ok ? (r as unknown as X402Requirement) : null;
}

/**
 * The `exact` requirement a 402 answer (a Response, or its parsed body) asks to be paid, or null when
 * it is not an x402 402. `network` / `asset` pick one among several.
 */
export async function getPaymentRequirement(answer: Response | unknown, filter: { network?: string; asset?: string } = {}): Promise<X402Requirement | null> {
  let body: unknown = answer;
  if (typeof Response !== "undefined" && answer instanceof Response) {
    if (answer.status !== 402) return null;
    body = await answer.clone().json().catch(() => null);
  }
  if (typeof body !== "object" || body === null) return null;
  const { x402Version, accepts } = body as { x402Version?: unknown; accepts?: unknown };
  if (x402Version !== 1 || !Array.isArray(accepts)) return null;
  for (const candidate of accepts) {
    const r = asRequirement(candidate);
    if (!r) continue;
    if (filter.network && r.network !== filter.network) continue;
    if (filter.asset && r.asset.toLowerCase() !== filter.asset.toLowerCase()) continue;
    return r;
  }
  return null;
}

function randomNonce(): Hex {
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

export type PayOptions = {
  /** EIP-155 chain id, when the network is not one of Talon's registry names. */
  chainId?: number;
  /** How long the authorization stays valid (capped by the requirement's maxTimeoutSeconds). Default: that maximum. */
  validForSeconds?: number;
  /** Seconds since the epoch (tests). */
  now?: number;
  /** Pay this amount instead of maxAmountRequired (the server refuses less). */
  amount?: bigint;
};

/**
 * Signs an EIP-3009 transferWithAuthorization paying `requirement` (one request) and returns the
 * X-PAYMENT header value. Nothing is sent: the authorization moves money only when the server settles it.
 */
export async function pay(requirement: X402Requirement, signer: X402Signer, opts: PayOptions = {}): Promise<string> {
  const chainId = opts.chainId ?? CHAIN_IDS[requirement.network];
  if (chainId === undefined) throw new TypeError(`unknown x402 network ${requirement.network}: pass options.chainId`);
  const now = BigInt(Math.floor(opts.now ?? Date.now() / 1000));
  const validFor = BigInt(Math.min(opts.validForSeconds ?? requirement.maxTimeoutSeconds, requirement.maxTimeoutSeconds));
  const authorization = {
    from: signer.address,
    to: requirement.payTo,
    value: opts.amount ?? BigInt(requirement.maxAmountRequired),
    // A little in the past: the chain's clock may lag the client's.
    validAfter: now - 600n,
    validBefore: now + validFor,
    nonce: randomNonce(),
  };
  const signature = await signer.signTypedData({
    domain: { name: requirement.extra.name, version: requirement.extra.version, chainId, verifyingContract: requirement.asset },
    types: TRANSFER_WITH_AUTHORIZATION_TYPES,
    primaryType: "TransferWithAuthorization",
    message: authorization,
  });
  const payload = {
    x402Version: 1,
    scheme: "exact",
    network: requirement.network,
    payload: {
      signature,
      authorization: {
        ...authorization,
        value: authorization.value.toString(),
        validAfter: authorization.validAfter.toString(),
        validBefore: authorization.validBefore.toString(),
      },
    },
  };
  return base64(JSON.stringify(payload));
}

/** The decoded X-PAYMENT-RESPONSE of a paid answer, or null. */
export function decodePaymentResponse(answer: Response | string | null): X402SettlementResponse | null {
  const header = typeof answer === "string" || answer === null ? answer : answer.headers.get(X402_PAYMENT_RESPONSE_HEADER);
  if (!header) return null;
  try {
    const bin = atob(header);
    const v = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)))) as X402SettlementResponse;
    return typeof v === "object" && v !== null && typeof v.success === "boolean" ? v : null;
  } catch {
    return null;
  }
}

export type WithPaymentOptions = PayOptions & {
  /** The most one request may cost, in the asset's atomic units: a dearer requirement is not paid. Required. */
  maxAmount: bigint;
  network?: string;
  asset?: string;
  /** Called after each paid answer with its settlement (the transaction hash). */
  onPayment?: (settlement: X402SettlementResponse | null, requirement: X402Requirement) => void;
};

/**
 * A fetch that answers an x402 402 by signing one authorization and retrying the request once with
 * X-PAYMENT. Any other answer, a requirement above `maxAmount`, or a second 402 is returned as is.
 */
export function withPayment(fetchImpl: typeof fetch, signer: X402Signer, options: WithPaymentOptions): typeof fetch {
  if (typeof options?.maxAmount !== "bigint" || options.maxAmount <= 0n) throw new TypeError("withPayment needs options.maxAmount (a positive bigint)");
  return async (input, init) => {
    const again = typeof Request !== "undefined" && input instanceof Request ? input.clone() : input;
    const first = await fetchImpl(input, init);
    if (first.status !== 402) return first;
    const requirement = await getPaymentRequirement(first, options);
    if (!requirement || BigInt(requirement.maxAmountRequired) > options.maxAmount) return first;
    const header = await pay(requirement, signer, options);
    const headers = new Headers(init?.headers ?? (again instanceof Request ? again.headers : undefined));
    headers.set(X402_PAYMENT_HEADER, header);
    const paid = await fetchImpl(again, { ...init, headers });
    options.onPayment?.(decodePaymentResponse(paid), requirement);
    return paid;
  };
}
