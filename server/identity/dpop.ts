import { createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { compactVerify, decodeProtectedHeader } from "jose";
import { type DpopJwk, ZDpopJwk } from "../../lib/contract/auth";
import { isJwtShaped } from "../../lib/jwt-shape";
import type { Config } from "../config";
import { sha256 } from "../crypto/digest";
import type { Db } from "../db";
import { ApiError } from "../http/errors";
import { log } from "../log";

/**
 * DPoP (RFC 9449): an agent token bound to a key (`cnf.jkt`, the key's RFC 7638 thumbprint) is only
 * good together with a fresh proof signed by that key for this very request. A proof is a JWT with
 * `typ: dpop+jwt`, the public key in its header, and `htm` (method), `htu` (URL without query and
 * fragment), `iat` (within a small window) and `jti` (single use) — plus `ath`, the hash of the
 * access token, on resource requests. Each `jti` is recorded in the shared RateCounter table with
 * an insert-unique statement, so a proof is accepted once across every instance on the database.
 *
 * `htu` must name Talon as its clients address it: its public URL (TALON_PUBLIC_URL, path prefix
 * included) plus the request's path. The Host header a request arrived with is not trusted for this,
 * since whoever relays a proof meant for another server can set it; the one exception is a direct
 * loopback connection to a loopback host (development, tests), which no remote relay can produce.
 */
export const DPOP_ALGS = ["ES256", "ES384", "EdDSA"] as const;
/** How old a proof may be, and how far ahead of our clock its `iat` may lie. */
export const DPOP_PROOF_MAX_AGE_SECONDS = 60;
export const DPOP_PROOF_MAX_FUTURE_SECONDS = 10;
const PROOF_MAX_CHARS = 4096;
const JTI_MAX_CHARS = 256;
const REPLAY_KEY_PREFIX = "dpop-jti:";
const PRUNE_EVERY_MS = 60_000;

/** What a proof is checked against: the request as it reached Talon. */
export type DpopRequest = { proof: string | undefined; method: string; url: string; ip: string };

/** A proof that fails a check; the message names the check (no secrets: the proof is the caller's own). */
export class DpopProofError extends Error {}

/** RFC 7638: SHA-256 over the key's required members, in lexicographic order, without whitespace. */
export function jwkThumbprint(jwk: DpopJwk): string {
  const required = jwk.kty === "EC" ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return sha256(JSON.stringify(required), "base64url");
}

/** The JWS algorithm a key signs with: one per key type, so a proof cannot pick a weaker reading. */
const algOf = (jwk: DpopJwk) => (jwk.kty === "OKP" ? "EdDSA" : jwk.crv === "P-256" ? "ES256" : "ES384");

function publicKeyOf(jwk: DpopJwk): KeyObject | null {
  const members: JsonWebKey = jwk.kty === "EC" ? { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } : { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
  try {
    return createPublicKey({ key: members, format: "jwk" });
  } catch {
    return null;
  }
}

/** A `dpop_jwk` sent to the token endpoint: a usable public key (a point on its curve), or a 400 naming the field. */
export function thumbprintOfBodyKey(jwk: DpopJwk): string {
  if (!publicKeyOf(jwk)) throw ApiError.badRequest("Invalid dpop_jwk: not a valid public key for its curve", [{ field: "dpop_jwk", message: "not a valid public key for its curve" }]);
  return jwkThumbprint(jwk);
}

const upperEscapes = (s: string) => s.replace(/%[0-9a-f]{2}/gi, (m) => m.toUpperCase());
const isLoopbackIp = (ip: string) => ip === "::1" || /^(::ffff:)?127\./.test(ip);
const isLoopbackHost = (host: string) => host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);

/** `htu` values this request accepts, normalised as `origin + path`. */
function acceptedHtu(config: Config, req: DpopRequest): string[] {
  const requested = new URL(req.url);
  const pub = new URL(config.publicUrl);
  const accepted = [new URL(pub.pathname.replace(/\/+$/, "") + requested.pathname, pub.origin)];
  if (config.trustedProxyHops === 0 && isLoopbackIp(req.ip) && isLoopbackHost(requested.hostname)) accepted.push(requested);
  return accepted.map((u) => upperEscapes(u.origin + u.pathname));
}

function normalisedHtu(htu: string): string | null {
  try {
    const u = new URL(htu);
    return u.protocol === "https:" || u.protocol === "http:" ? upperEscapes(u.origin + u.pathname) : null;
  } catch {
    return null;
  }
}

type Proven = { jkt: string; replayKey: string; expiresAtMs: number };

/** Everything but the replay check: structure, key, signature, binding, method, URL, time, `ath`. */
async function checkProof(config: Config, req: DpopRequest, expect: { jkt?: string; accessToken?: string }): Promise<Proven> {
  const proof = req.proof;
  if (proof === undefined || proof === "") throw new DpopProofError("a DPoP proof header is required with this token");
  if (proof.length > PROOF_MAX_CHARS || !isJwtShaped(proof)) throw new DpopProofError("the DPoP header must hold exactly one proof JWT");
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw new DpopProofError("the proof's header is not valid JSON");
  }
  if (header.typ !== "dpop+jwt") throw new DpopProofError('the proof\'s typ must be "dpop+jwt"');
  const jwk = ZDpopJwk.safeParse(header.jwk);
  if (!jwk.success) throw new DpopProofError("the proof's jwk must be a public EC P-256, P-384 or Ed25519 key");
  const alg = algOf(jwk.data);
  if (header.alg !== alg && !(alg === "EdDSA" && header.alg === "Ed25519")) throw new DpopProofError(`the proof's alg must be ${alg} for its key`);
  const key = publicKeyOf(jwk.data);
  if (!key) throw new DpopProofError("the proof's jwk is not a valid public key");
  let signed: Uint8Array;
  try {
    signed = (await compactVerify(proof, key, { algorithms: [header.alg] })).payload;
  } catch {
    throw new DpopProofError("the proof's signature does not verify with its jwk");
  }
  let payload: Record<string, unknown>;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(signed)) as unknown;
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
    payload = parsed as Record<string, unknown>;
  } catch {
    throw new DpopProofError("the proof's payload must be a JSON object");
  }
  const jkt = jwkThumbprint(jwk.data);
  if (expect.jkt !== undefined && jkt !== expect.jkt) throw new DpopProofError("the proof is signed by another key than the one this token is bound to");
  const { jti, htm, htu, iat, ath } = payload;
  if (typeof jti !== "string" || jti.length === 0 || jti.length > JTI_MAX_CHARS) throw new DpopProofError("the proof needs a jti");
  if (htm !== req.method) throw new DpopProofError(`the proof's htm must be ${req.method}`);
  const presented = typeof htu === "string" ? normalisedHtu(htu) : null;
  if (presented === null || !acceptedHtu(config, req).includes(presented)) {
    throw new DpopProofError("the proof's htu must be this request's URL (Talon's public URL and the path, without query or fragment)");
  }
  const now = Math.floor(Date.now() / 1000);
  if (typeof iat !== "number" || !Number.isFinite(iat) || iat > now + DPOP_PROOF_MAX_FUTURE_SECONDS || iat < now - DPOP_PROOF_MAX_AGE_SECONDS) {
    throw new DpopProofError(`the proof's iat must be within ${DPOP_PROOF_MAX_AGE_SECONDS} s of the server's time`);
  }
  if (expect.accessToken !== undefined && ath !== sha256(expect.accessToken, "base64url")) {
    throw new DpopProofError("the proof's ath must be the SHA-256 (base64url) of the access token");
  }
  // Keyed by key and jti, hashed: the table holds no caller-chosen text, and every row is one size.
  return { jkt, replayKey: REPLAY_KEY_PREFIX + sha256(`${jkt}:${jti}`, "base64url"), expiresAtMs: (Math.floor(iat) + DPOP_PROOF_MAX_AGE_SECONDS + 1) * 1000 };
}

let lastPrune = 0;

/**
 * Records a proof's jti; false when it was seen before. One insert-unique statement, so two
 * instances racing with the same proof cannot both win. A row is needed only until the proof's `iat`
 * leaves the window (after that the time check refuses it anyway): an expired row is taken over in
 * the same statement, and expired rows are deleted in the background at most once a minute.
 */
async function consumeJti(db: Db, replayKey: string, expiresAtMs: number): Promise<boolean> {
  const now = Date.now();
  if (now - lastPrune >= PRUNE_EVERY_MS) {
    lastPrune = now;
    db.rateCounter
      .deleteMany({ where: { key: { startsWith: REPLAY_KEY_PREFIX }, windowStart: { lt: BigInt(now) } } })
      .catch((e: unknown) => log.warn("could not prune DPoP replay entries", { error: e instanceof Error ? e.name : "unknown" }));
  }
  const rows = await db.$queryRaw<{ key: string }[]>`
    INSERT INTO "RateCounter" ("key", "windowStart", "count") VALUES (${replayKey}, ${BigInt(expiresAtMs)}, 1)
    ON CONFLICT ("key") DO UPDATE SET "windowStart" = ${BigInt(expiresAtMs)}, "count" = 1
      WHERE "RateCounter"."windowStart" < ${BigInt(now)}
    RETURNING "key"`;
  return rows.length === 1;
}

/**
 * The full check of one proof, its jti consumed last (a proof failing another check uses nothing up).
 * `expect.jkt`: the key the token is bound to; `expect.accessToken`: the token, for `ath`. Returns the
 * proof key's thumbprint. Throws DpopProofError.
 */
export async function verifyDpopProof(rt: { db: Db; config: Config }, req: DpopRequest, expect: { jkt?: string; accessToken?: string }): Promise<string> {
  const proven = await checkProof(rt.config, req, expect);
  if (!(await consumeJti(rt.db, proven.replayKey, proven.expiresAtMs))) throw new DpopProofError("this proof was already used: send a new proof (a fresh jti) with every request");
  return proven.jkt;
}

const CHALLENGE_ALGS = DPOP_ALGS.join(" ");

/** The 401 of a resource request whose DPoP proof (or token binding) fails; `WWW-Authenticate` per RFC 9449 §7.1. */
export function dpopUnauthorized(reason: string, error: "invalid_dpop_proof" | "invalid_token" = "invalid_dpop_proof"): ApiError {
  const description = reason.replace(/["\\]/g, "'");
  return new ApiError(401, `DPoP: ${reason}`, { headers: { "WWW-Authenticate": `DPoP error="${error}", error_description="${description}", algs="${CHALLENGE_ALGS}"` } });
}
