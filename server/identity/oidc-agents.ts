import { createRemoteJWKSet, customFetch, jwtVerify } from "jose";
import type { Config } from "../config";
import { log } from "../log";
import { TOKEN_AUDIENCE } from "./tokens";

/**
 * OIDC client-credentials agents: the agent obtains a JWT access token from its identity provider
 * (the client-credentials grant) and presents it as `client_assertion` at POST /v1/auth/agent-token.
 * Talon verifies it against the issuer's JWKS, found through the issuer's discovery document.
 *
 * What Talon will fetch is bounded, because an agent-token request from anyone makes it fetch:
 *  - only issuers listed in TALON_OIDC_ALLOWED_ISSUERS, over https (plain http only on loopback);
 *  - the JWKS only at the issuer's own origin, so a discovery document cannot point Talon elsewhere;
 *  - at most 1 MiB per body (discovery and JWKS), read in chunks and abandoned past the cap;
 *  - a failed discovery or JWKS fetch is remembered for a minute, so a broken or slow issuer costs
 *    one fetch a minute, not one per request. A bad assertion is not an issuer failure and is not cached.
 * Discovery results are cached per issuer; jose's remote JWKS set caches keys and refetches (with a
 * cooldown) when it meets an unknown `kid`.
 */
const DISCOVERY_TTL_MS = 60 * 60 * 1000;
export const OIDC_NEGATIVE_CACHE_MS = 60 * 1000;
export const OIDC_MAX_BODY_BYTES = 1024 * 1024;
const FETCH_TIMEOUT_MS = 5000;
/** Asymmetric algorithms only: HS* would let anyone holding the (public) JWKS forge tokens. */
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;
const issuers = new Map<string, { jwks: RemoteJwks; fetchedAt: number }>();
const failures = new Map<string, number>();

class IssuerUnavailable extends Error {
  override name = "IssuerUnavailable";
}

const LOOPBACK_HOSTS = new Set(["localhost", "[::1]"]);
const isLoopback = (url: URL) => LOOPBACK_HOSTS.has(url.hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname);

/** The issuer as a URL Talon may contact: https, or http on a loopback address (a local test IdP). */
function issuerUrl(issuer: string): URL | null {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return null;
  }
  if (url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url))) return url;
  return null;
}

/** The body of `res` as text, refused (and the connection dropped) as soon as it passes the cap. */
async function cappedBody(res: Response): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > OIDC_MAX_BODY_BYTES) {
    await res.body?.cancel();
    throw new IssuerUnavailable("body over the cap");
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > OIDC_MAX_BODY_BYTES) {
        await reader.cancel();
        throw new IssuerUnavailable("body over the cap");
      }
      chunks.push(value);
    }
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Runs one fetch of the issuer's; any failure is remembered for OIDC_NEGATIVE_CACHE_MS. */
async function remembered<T>(issuer: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    failures.set(issuer, Date.now());
    throw e;
  }
}

async function discover(issuer: string, base: URL): Promise<RemoteJwks> {
  const res = await fetch(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`, {
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    redirect: "error",
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new IssuerUnavailable(`discovery answered ${res.status}`);
  }
  const doc = JSON.parse(await cappedBody(res)) as { issuer?: unknown; jwks_uri?: unknown };
  // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
  if (doc.issuer !== issuer || typeof doc.jwks_uri !== "string") throw new IssuerUnavailable("discovery document does not match the issuer");
  const jwksUri = new URL(doc.jwks_uri);
  if (jwksUri.origin !== base.origin) throw new IssuerUnavailable("jwks_uri is not at the issuer's origin");
  return createRemoteJWKSet(jwksUri, {
    timeoutDuration: FETCH_TIMEOUT_MS,
    // jose asks for redirect: "manual", so a redirect elsewhere is a failed fetch, not a followed one.
    [customFetch]: (url, init) =>
      remembered(issuer, async () => {
        const jwksRes = await fetch(url, init);
        if (jwksRes.status !== 200) {
          await jwksRes.body?.cancel();
          throw new IssuerUnavailable(`jwks answered ${jwksRes.status}`);
        }
        const body = await cappedBody(jwksRes);
        const jwks = JSON.parse(body) as { keys?: unknown };
        if (!Array.isArray(jwks.keys)) throw new IssuerUnavailable("not a JWKS");
        return new Response(body, { status: 200, headers: { "Content-Type": "application/json" } });
      }),
  });
}

async function jwksFor(issuer: string, base: URL): Promise<RemoteJwks> {
  const failedAt = failures.get(issuer);
  if (failedAt !== undefined && Date.now() - failedAt < OIDC_NEGATIVE_CACHE_MS) throw new IssuerUnavailable("recent failure cached");
  failures.delete(issuer);
  const cached = issuers.get(issuer);
  if (cached && Date.now() - cached.fetchedAt < DISCOVERY_TTL_MS) return cached.jwks;
  const jwks = await remembered(issuer, () => discover(issuer, base));
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
  const base = issuerUrl(issuer);
  if (!base) {
    log.warn("oidc issuer refused: https is required unless the issuer is on loopback", { requestId });
    return false;
  }
  try {
    const { payload } = await jwtVerify(assertion, await jwksFor(issuer, base), {
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
