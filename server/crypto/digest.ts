import * as nodeCrypto from "node:crypto";

type Encoding = "hex" | "base64" | "base64url";
type OneShot = (algorithm: string, data: string | Buffer, outputEncoding: Encoding) => string;

/**
 * `crypto.hash` (Node ≥ 20.12): one native call, no Hash object, about half the time of
 * createHash().update().digest() for the short inputs of the hot path (a token's cache key, an audit
 * event's chain hash). `engines` allows Node 20.10, which lacks it: there, a Hash object per digest.
 */
const oneShot = (nodeCrypto as unknown as { hash?: OneShot }).hash;

/**
 * SHA-256 of a string (UTF-8) or bytes, in one call: the project's single way to take a one-shot digest
 * (token and key hashes, thumbprints, checksums). Without an encoding, the 32 raw bytes, for
 * `timingSafeEqual` and binary columns. Incremental hashing (streams, parts fed one by one) keeps createHash.
 */
export function sha256(data: string | Buffer): Buffer;
export function sha256(data: string | Buffer, encoding: Encoding): string;
export function sha256(data: string | Buffer, encoding?: Encoding): string | Buffer {
  if (!encoding) return nodeCrypto.createHash("sha256").update(data).digest();
  return oneShot ? oneShot("sha256", data, encoding) : nodeCrypto.createHash("sha256").update(data).digest(encoding);
}
