import { createRemoteJWKSet, jwtVerify } from "jose";
import type { Config } from "../config";
import { log } from "../log";
import { TOKEN_AUDIENCE } from "./tokens";

/**
 * OIDC client-credentials agents: the agent obtains a JWT access token from its identity provider
 * (the client-credentials grant) and presents it as `client_assertion` at POST /v1/auth/agent-token.
 * Talon verifies it against the issuer's JWKS, found through the issuer's discovery document.
 *
 * Only issuers listed in TALON_OIDC_ALLOWED_ISSUERS are ever contacted: an agent record alone cannot
 * make Talon fetch an arbitrary URL. Discovery results are cached per issuer; jose's remote JWKS set
 * caches keys and refetches (with a cooldown) when it meets an unknown `kid`.
 */
const DISCOVERY_TTL_MS = 60 * 60 * 1000;
const FETCH_TIMEOUT_MS = 5000;
/** Asymmetric algorithms only: HS* would let anyone holding the (public) JWKS forge tokens. */
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;
const issuers = new Map<string, { jwks: RemoteJwks; fetchedAt: number }>();

async function jwksFor(issuer: string): Promise<RemoteJwks> {
  const cached = issuers.get(issuer);
  if (cached && Date.now() - cached.fetchedAt < DISCOVERY_TTL_MS) return cached.jwks;
  const res = await fetch(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`, {
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    redirect: "error",
  });
  if (!res.ok) throw new Error(`discovery answered ${res.status}`);
  const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
  // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
  if (doc.issuer !== issuer || typeof doc.jwks_uri !== "string" || !/^https?:\/\//.test(doc.jwks_uri)) {
    throw new Error("discovery document does not match the issuer");
  }
  const jwks = createRemoteJWKSet(new URL(doc.jwks_uri), { timeoutDuration: FETCH_TIMEOUT_MS });
  issuers.set(issuer, { jwks, fetchedAt: Date.now() });
  return jwks;
}

export type OidcAgentIdentity = { oidcIssuer: string | null; oidcClientId: string | null };

/**
 * True when `assertion` is a live JWT from the agent's issuer for the agent's client id, meant for
 * Talon (`aud` = Talon's public URL or "talon-api"). Any failure — including an unreachable issuer —
 * is simply false: the caller answers 401, and the reason goes to the log without the token.
 */
export async function verifyOidcAssertion(config: Config, agent: OidcAgentIdentity, assertion: string, requestId: string): Promise<boolean> {
  const { oidcIssuer: issuer, oidcClientId: clientId } = agent;
  if (!issuer || !clientId || !config.oidcAllowedIssuers.includes(issuer)) return false;
  try {
    const { payload } = await jwtVerify(assertion, await jwksFor(issuer), {
      issuer,
      audience: [config.publicUrl, TOKEN_AUDIENCE],
      algorithms: ALGORITHMS,
      requiredClaims: ["exp"],
      clockTolerance: 30,
    });
    const client = [payload.sub, payload.azp, payload.client_id];
    return client.includes(clientId);
  } catch (e) {
    log.info("oidc agent assertion refused", { requestId, reason: e instanceof Error ? e.name : "unknown" });
    return false;
  }
}
