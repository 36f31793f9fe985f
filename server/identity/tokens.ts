import { randomUUID } from "node:crypto";
import { importJWK, jwtVerify, type JWTPayload, type JWTHeaderParameters } from "jose";
import { sha256 } from "../crypto/digest";
import { AGENT_TOKEN_TTL_MAX_SECONDS } from "../../lib/contract/agents";
import type { Config } from "../config";
import { ApiError } from "../http/errors";
import type { Keystore } from "../keystore/types";

export const TOKEN_AUDIENCE = "talon-api";
/**
 * The audience of the short-lived token that stands between a correct password and the MFA code. It
 * is not the API's audience, so `verify()` refuses it as a bearer token; its subject (`mfa:<id>`)
 * matches no principal either.
 */
export const MFA_TOKEN_AUDIENCE = "talon-mfa";
export const MFA_TOKEN_TTL_SECONDS = 300;
/** How far in the future a token's `iat` may lie: clock skew between instances, nothing more. */
export const IAT_FUTURE_SKEW_SECONDS = 60;

/** Claims a caller chooses; `iss`, `aud`, `iat`, `exp` and `jti` are always set by `issue`. */
export type TokenClaims = { sub: string; org: string } & Record<string, unknown>;
export type VerifiedClaims = JWTPayload & { sub: string; org: string; jti: string; exp: number; iat: number };
export type IssuedToken = { token: string; jti: string; expiresIn: number; expiresAt: number };
/** Whether an agent token's `scopes` are the agent's explicit scopes (a ceiling) or derived from its policies (informational). */
export type AgentScopeSource = "explicit" | "derived";
export type UserTokenClaims = { userId: string; orgId: string; tokenVersion: number; jti: string; expiresAt: number };

const UUID = "([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})";
const USER_SUB = new RegExp(`^user:${UUID}$`);
const MFA_SUB = new RegExp(`^mfa:${UUID}$`);
const UUID_RE = new RegExp(`^${UUID}$`);
/** Verified API tokens kept in memory at most (a few hundred bytes each). */
const VERIFIED_CACHE_MAX = 20_000;
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
type VerifyKey = Awaited<ReturnType<typeof importJWK>>;

/**
 * Issues and verifies the API's JWTs. The signature is computed by the keystore (Ed25519 inside the
 * HSM with the pkcs11 provider), so the private key never enters this process; verification uses the
 * public JWK, the same one `/.well-known/jwks.json` publishes. Generic `issue`/`verify` serve user
 * tokens now and agent tokens later; the `*UserToken` helpers add what is specific to humans.
 */
export class TokenService {
  private key?: Promise<{ kid: string; key: VerifyKey; header: string }>;
  /**
   * API tokens whose signature and claims were verified, by the SHA-256 of the token, until their
   * `exp` (EdDSA verification was ≈ 8 % of an agent read's CPU). Only the signature check is cached:
   * revocation, token version and the principal's state are read from the database on every request
   * (server/identity/authenticate.ts), so a revoked token fails on its next use as before.
   */
  private readonly verified = new Map<string, VerifiedClaims>();

  constructor(
    private readonly keystore: Keystore,
    private readonly config: Config,
  ) {}

  private verifyKey() {
    this.key ??= this.keystore
      .signingJwk()
      .then(async (jwk) => ({ kid: jwk.kid, key: await importJWK(jwk, "EdDSA"), header: b64url({ alg: "EdDSA", typ: "JWT", kid: jwk.kid }) }))
      .catch((e: unknown) => {
        this.key = undefined;
        throw e;
      });
    return this.key;
  }

  async issue(claims: TokenClaims, ttlSeconds: number, audience: string = TOKEN_AUDIENCE): Promise<IssuedToken> {
    // Number(): a numeric string (as env parsing may yield) must add, not concatenate, into `exp`.
    const ttl = Number(ttlSeconds);
    if (!Number.isSafeInteger(ttl) || ttl <= 0) throw new Error("Token lifetime must be a positive whole number of seconds");
    const { header } = await this.verifyKey();
    const iat = Math.floor(Date.now() / 1000);
    const jti = randomUUID();
    const payload = { ...claims, iss: this.config.publicUrl, aud: audience, iat, exp: iat + ttl, jti };
    const signingInput = `${header}.${b64url(payload)}`;
    const signature = await this.keystore.sign(Buffer.from(signingInput));
    return { token: `${signingInput}.${signature.toString("base64url")}`, jti, expiresIn: ttl, expiresAt: iat + ttl };
  }

  /**
   * The longest a token of this kind may live: what `issue` would ever have given it. Agents choose
   * their own `token_ttl_seconds`, so theirs is bounded by the largest an agent may choose.
   */
  private maxLifetimeSeconds(sub: string, audience: string): number {
    if (audience === MFA_TOKEN_AUDIENCE) return MFA_TOKEN_TTL_SECONDS;
    if (sub.startsWith("agent:")) return AGENT_TOKEN_TTL_MAX_SECONDS;
    return Number(this.config.userTokenTtlSeconds);
  }

  /**
   * Checks signature (EdDSA only: `none`, HS256 and anything else are refused before any key is
   * used), our `kid`, `typ`, issuer, audience and expiry, and that `iat` is believable: not more
   * than a minute ahead, and neither the token's lifetime nor its age longer than a token of its
   * kind is ever issued for — so a signed token with forged times (a key-signing slip, a replayed
   * test token) cannot live for years. Every failure is the same 401.
   */
  async verify(token: string, audience: string = TOKEN_AUDIENCE): Promise<VerifiedClaims> {
    if (audience !== TOKEN_AUDIENCE) return this.verifySignature(token, audience);
    const digest = sha256(token, "base64");
    const hit = this.unexpired(digest);
    if (hit !== undefined) return hit;
    const claims = await this.verifySignature(token, audience);
    this.remember(digest, claims);
    return claims;
  }

  /**
   * An API token `verify` accepted before, while it has not expired: its claims, at once (no promise,
   * no turn of the event loop). The hot path asks this first (server/identity/authenticate.ts), and
   * `verify` only on a miss.
   */
  verifiedBefore(token: string): VerifiedClaims | undefined {
    return this.unexpired(sha256(token, "base64"));
  }

  private unexpired(digest: string): VerifiedClaims | undefined {
    const hit = this.verified.get(digest);
    if (hit === undefined || hit.exp > Math.floor(Date.now() / 1000)) return hit;
    this.verified.delete(digest);
    return undefined;
  }

  private remember(digest: string, claims: VerifiedClaims) {
    if (this.verified.size >= VERIFIED_CACHE_MAX) {
      // Drop expired entries first; then the oldest insertions (Map keeps insertion order) down to 90 %,
      // so a full cache is swept once per few thousand new tokens, not on each.
      const now = Math.floor(Date.now() / 1000);
      for (const [k, c] of this.verified) if (c.exp <= now) this.verified.delete(k);
      for (const k of this.verified.keys()) {
        if (this.verified.size < VERIFIED_CACHE_MAX * 0.9) break;
        this.verified.delete(k);
      }
    }
    this.verified.set(digest, claims);
  }

  private async verifySignature(token: string, audience: string): Promise<VerifiedClaims> {
    const { kid, key } = await this.verifyKey();
    try {
      const { payload } = await jwtVerify(
        token,
        (header: JWTHeaderParameters) => {
          if (header.kid !== kid) throw new Error("unknown kid");
          return key;
        },
        {
          algorithms: ["EdDSA"],
          typ: "JWT",
          issuer: this.config.publicUrl,
          audience,
          requiredClaims: ["sub", "iat", "exp", "jti"],
        },
      );
      if (typeof payload.org !== "string" || typeof payload.jti !== "string") throw new Error("missing claims");
      const claims = payload as VerifiedClaims;
      const now = Math.floor(Date.now() / 1000);
      const maxLifetime = this.maxLifetimeSeconds(claims.sub, audience);
      if (claims.iat > now + IAT_FUTURE_SKEW_SECONDS || claims.exp - claims.iat > maxLifetime || now - claims.iat > maxLifetime) {
        throw new Error("implausible token times");
      }
      return claims;
    } catch {
      throw ApiError.unauthorized();
    }
  }

  /**
   * A user's access token. `rfam` names the refresh-token family issued beside it, so signing out
   * with this token (DELETE /v1/auth/token) can end that family too.
   */
  async issueUserToken(user: { id: string; orgId: string; tokenVersion: number }, refreshFamilyId?: string): Promise<IssuedToken> {
    return this.issue(
      { sub: `user:${user.id}`, org: user.orgId, tv: user.tokenVersion, ...(refreshFamilyId ? { rfam: refreshFamilyId } : {}) },
      this.config.userTokenTtlSeconds,
    );
  }

  /**
   * A user token minted from a personal API key: `amr: ["api_key"]` and `akid` let authentication
   * treat it as the key itself (same limits, dead once the key is deleted).
   */
  async issueApiKeyUserToken(user: { id: string; orgId: string; tokenVersion: number }, apiKeyId: string, ttlSeconds: number): Promise<IssuedToken> {
    return this.issue({ sub: `user:${user.id}`, org: user.orgId, tv: user.tokenVersion, amr: ["api_key"], akid: apiKeyId }, ttlSeconds);
  }

  issueMfaToken(user: { id: string; orgId: string; tokenVersion: number }): Promise<IssuedToken> {
    return this.issue({ sub: `mfa:${user.id}`, org: user.orgId, tv: user.tokenVersion }, MFA_TOKEN_TTL_SECONDS, MFA_TOKEN_AUDIENCE);
  }

  /** The user an MFA token was issued to, with the token version it carries; any failure is the one 401. */
  async verifyMfaToken(token: string): Promise<{ userId: string; orgId: string; tokenVersion: number }> {
    const claims = await this.verify(token, MFA_TOKEN_AUDIENCE);
    const m = MFA_SUB.exec(claims.sub);
    if (!m || !Number.isSafeInteger(claims.tv)) throw ApiError.unauthorized("The MFA token is invalid or expired; sign in again");
    return { userId: m[1]!, orgId: claims.org, tokenVersion: claims.tv as number };
  }
}

/** The refresh-token family a user access token was issued with, if any. */
export const refreshFamilyOf = (claims: VerifiedClaims): string | null => (typeof claims.rfam === "string" && UUID_RE.test(claims.rfam) ? claims.rfam : null);

/** The user-specific view of verified claims, or null when the subject is not a user (e.g. an agent). */
export function userClaimsOf(claims: VerifiedClaims): UserTokenClaims | null {
  const m = USER_SUB.exec(claims.sub);
  if (!m || !Number.isSafeInteger(claims.tv)) return null;
  return { userId: m[1]!, orgId: claims.org, tokenVersion: claims.tv as number, jti: claims.jti, expiresAt: claims.exp };
}
