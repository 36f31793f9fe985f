import { randomInt } from "node:crypto";
import type { RotateSecretRequest } from "../../lib/contract/secrets";

type Charset = NonNullable<RotateSecretRequest["charset"]>;

const DIGITS = "0123456789";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = LOWER.toUpperCase();
const ALPHABETS: Record<Charset, string> = {
  hex: DIGITS + "abcdef",
  base64: UPPER + LOWER + DIGITS + "+/",
  alphanumeric: UPPER + LOWER + DIGITS,
  // Printable ASCII without the space (0x21–0x7e).
  ascii: Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join(""),
};

/** A random value of `length` characters from `charset`; randomInt draws without modulo bias. */
export function generateSecretValue(length: number, charset: Charset): string {
  const alphabet = ALPHABETS[charset];
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}
