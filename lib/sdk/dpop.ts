/**
 * DPoP (RFC 9449) for the SDK: a key pair whose public half an agent token is bound to, and the
 * per-request proofs that token then needs. WebCrypto only (`globalThis.crypto.subtle`), so it runs
 * in Node 20+, Deno, Bun and browsers without dependencies. The private key never leaves the
 * `CryptoKey` (generated non-extractable unless the caller imports its own).
 */

export type DpopAlgorithm = "ES256" | "EdDSA";

/** The public members of a DPoP key, as sent in `dpop_jwk` and in every proof's header. */
export type DpopPublicJwk = { kty: "EC"; crv: "P-256"; x: string; y: string } | { kty: "OKP"; crv: "Ed25519"; x: string };

export type DpopKey = {
  alg: DpopAlgorithm;
  privateKey: CryptoKey;
  publicJwk: DpopPublicJwk;
  /** RFC 7638 thumbprint: what a bound token carries as `cnf.jkt`. */
  thumbprint: string;
};

export type DpopProofInput = {
  /** HTTP method of the request the proof is for. */
  htm: string;
  /** The request URL; its query and fragment are dropped. */
  htu: string;
  /** The access token sent with the request (its hash becomes `ath`); absent at the token endpoint. */
  accessToken?: string;
};

const subtle = () => {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new TypeError("DPoP needs WebCrypto (globalThis.crypto.subtle)");
  return s;
};

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const b64json = (value: unknown) => base64url(encoder.encode(JSON.stringify(value)));
const sha256 = async (text: string) => base64url(new Uint8Array(await subtle().digest("SHA-256", encoder.encode(text))));

const SIGN_PARAMS: Record<DpopAlgorithm, AlgorithmIdentifier | EcdsaParams> = {
  ES256: { name: "ECDSA", hash: "SHA-256" },
  EdDSA: { name: "Ed25519" },
};

/** RFC 7638: SHA-256 over the required members in lexicographic order. */
export async function dpopThumbprint(jwk: DpopPublicJwk): Promise<string> {
  const required = jwk.kty === "EC" ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return sha256(JSON.stringify(required));
}

function publicMembers(jwk: JsonWebKey): DpopPublicJwk {
  if (jwk.kty === "EC" && jwk.crv === "P-256" && jwk.x && jwk.y) return { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519" && jwk.x) return { kty: "OKP", crv: "Ed25519", x: jwk.x };
  throw new TypeError("a DPoP key must be ECDSA P-256 or Ed25519");
}

/** A DPoP key from an existing WebCrypto key pair (ECDSA P-256 or Ed25519); the public key must be exportable. */
export async function dpopKeyFromKeyPair(pair: CryptoKeyPair): Promise<DpopKey> {
  const publicJwk = publicMembers(await subtle().exportKey("jwk", pair.publicKey));
  return { alg: publicJwk.kty === "EC" ? "ES256" : "EdDSA", privateKey: pair.privateKey, publicJwk, thumbprint: await dpopThumbprint(publicJwk) };
}

/** A new DPoP key pair, ES256 (ECDSA P-256) by default; the private key is not extractable. */
export async function generateDpopKey(alg: DpopAlgorithm = "ES256"): Promise<DpopKey> {
  const params = alg === "ES256" ? { name: "ECDSA", namedCurve: "P-256" } : { name: "Ed25519" };
  const pair = (await subtle().generateKey(params, false, ["sign", "verify"])) as CryptoKeyPair;
  return dpopKeyFromKeyPair(pair);
}

/** The request URL as `htu`: no query, no fragment. */
export function dpopHtu(url: string | URL): string {
  const u = new URL(String(url));
  return `${u.origin}${u.pathname}`;
}

/** One proof JWT (`typ: dpop+jwt`) for one request: fresh `jti`, `iat` now, `ath` when a token is sent. */
export async function createDpopProof(key: DpopKey, input: DpopProofInput): Promise<string> {
  const header = { typ: "dpop+jwt", alg: key.alg, jwk: key.publicJwk };
  const payload = {
    jti: globalThis.crypto.randomUUID(),
    htm: input.htm.toUpperCase(),
    htu: dpopHtu(input.htu),
    iat: Math.floor(Date.now() / 1000),
    ...(input.accessToken === undefined ? {} : { ath: await sha256(input.accessToken) }),
  };
  const signingInput = `${b64json(header)}.${b64json(payload)}`;
  const signature = new Uint8Array(await subtle().sign(SIGN_PARAMS[key.alg], key.privateKey, encoder.encode(signingInput)));
  return `${signingInput}.${base64url(signature)}`;
}
