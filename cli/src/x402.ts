/**
 * `--x402-key-file FILE --x402-max-amount N` (or TALON_X402_KEY_FILE / TALON_X402_MAX_AMOUNT): when
 * the org's quota is used up and the server asks for x402, the CLI signs one EIP-3009 authorization
 * per request with the payer key in FILE (a 0x-prefixed 32-byte hex private key; the payer needs the
 * token, not gas) and retries once. N caps what one request may cost, in the asset's atomic units.
 * viem is loaded only when a payment is due, so other runs start as fast as before.
 */
import { readFileSync } from "node:fs";
import { withPayment, type X402Signer } from "../../lib/sdk/x402";
import { usageError } from "./io";

export type PaymentFlags = { keyFile?: string; maxAmount?: string };

const KEY = /^0x[0-9a-fA-F]{64}$/;

/** A fetch that pays x402 402s with the key in the file, or undefined without the flags. */
export function payingFetch(flags: PaymentFlags, env: NodeJS.ProcessEnv = process.env): typeof fetch | undefined {
  const keyFile = flags.keyFile ?? env.TALON_X402_KEY_FILE;
  const maxAmount = flags.maxAmount ?? env.TALON_X402_MAX_AMOUNT;
  if (keyFile === undefined) {
    if (maxAmount !== undefined) throw usageError("--x402-max-amount needs --x402-key-file");
    return undefined;
  }
  if (maxAmount === undefined || !/^[1-9]\d{0,29}$/.test(maxAmount)) throw usageError("--x402-key-file needs --x402-max-amount N (the most one request may cost, in the asset's atomic units)");
  let key: string;
  try {
    key = readFileSync(keyFile, "utf8").trim();
  } catch {
    throw usageError(`cannot read --x402-key-file ${keyFile}`);
  }
  // Never echo the file's content: it is a private key, or close to one.
  if (!KEY.test(key)) throw usageError("--x402-key-file must hold a 0x-prefixed 32-byte hex private key");
  let paying: Promise<typeof fetch> | null = null;
  const load = () =>
    (paying ??= import("viem/accounts").then(({ privateKeyToAccount }) => {
      const account = privateKeyToAccount(key as `0x${string}`);
      return withPayment(globalThis.fetch, account as unknown as X402Signer, {
        maxAmount: BigInt(maxAmount),
        onPayment: (s, r) => {
          if (s?.success) process.stderr.write(`talon: paid ${r.maxAmountRequired} atomic units on ${s.network} for this request (transaction ${s.transaction})\n`);
        },
      });
    }));
  return async (input, init) => (await load())(input, init);
}
