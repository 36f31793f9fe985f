import { createPublicKey, randomBytes, verify } from "node:crypto";
import { sha256 } from "../crypto/digest";
import { type Keystore, KeystoreIntegrityError } from "./types";

/** Both providers write wrapped keys as `[format 0x01][12-byte IV][ciphertext + 16-byte tag]`. */
export const BLOB_FORMAT = Buffer.from([0x01]);
const IV_BYTES = 12;
const TAG_BYTES = 16;

export type SigningJwk = Awaited<ReturnType<Keystore["signingJwk"]>>;

export function checkBlob(blob: Buffer): { iv: Buffer; body: Buffer } {
  if (blob.length < 1 + IV_BYTES + TAG_BYTES || blob[0] !== BLOB_FORMAT[0]) throw new KeystoreIntegrityError();
  return { iv: blob.subarray(1, 1 + IV_BYTES), body: blob.subarray(1 + IV_BYTES) };
}

/** The public JWK with its RFC 7638 thumbprint as kid (members in lexicographic order, no spaces). */
export function ed25519Jwk(publicKey: Buffer): SigningJwk {
  const x = publicKey.toString("base64url");
  const kid = sha256(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`, "base64url");
  return { kty: "OKP", crv: "Ed25519", x, kid, alg: "EdDSA", use: "sig" };
}

/** Start-up check: a wrap/unwrap round trip under the current master key and a signature that verifies. */
export async function selfTest(ks: Keystore): Promise<void> {
  const version = await ks.currentMasterKeyVersion();
  if (version < 1) throw new Error("Keystore self-test failed: no master key");
  const data = randomBytes(32);
  const aad = Buffer.from("talon/self-test");
  const back = await ks.unwrap(await ks.wrap(data, aad, version), aad, version);
  if (!back.equals(data)) throw new Error("Keystore self-test failed: wrap/unwrap round trip");
  const jwk = await ks.signingJwk();
  const sig = await ks.sign(data);
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" });
  if (!verify(null, data, key, sig)) throw new Error("Keystore self-test failed: signature does not verify");
}
