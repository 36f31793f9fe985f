import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import type { Config } from "../config";
import { sha256 } from "../crypto/digest";

/**
 * The dashboard's Google sign-in: an OpenID Connect authorization-code flow with PKCE, state and
 * nonce against the configured issuer. Between the redirect to the issuer and the callback, the
 * state, nonce and PKCE verifier live only in a cookie sealed (AES-256-GCM) with a key derived from
 * the dashboard secret, so the browser can neither read nor forge them, and the server keeps no rows.
 * The route handlers under app/(auth)/auth/google use these pieces; the ID token is verified and its
 * user found or created by server/identity/google.ts, exactly as for the API.
 */
export const FLOW_COOKIE = "talon-google-flow";
export const MFA_COOKIE = "talon-google-mfa";
export const FLOW_TTL_SECONDS = 10 * 60;
/** Both cookies are sent only to the Google routes. */
export const COOKIE_PATH = "/auth/google";
export const CALLBACK_PATH = "/auth/google/callback";
export const SCOPE = "openid email profile";

const DISCOVERY_TTL_MS = 60 * 60 * 1000;
const FETCH_TIMEOUT_MS = 5000;
/** Cookies are at most 4 KB; anything longer is not ours. */
const MAX_SEALED_LENGTH = 4096;

export type GoogleClient = { clientId: string; clientSecret: string; issuer: string };
export type GoogleFlow = { state: string; nonce: string; verifier: string };
/** What a sealed cookie carries: which of our cookies it is (`purpose`), its payload and its expiry. */
type Sealed<T> = { p: string; exp: number; v: T };

/** The dashboard flow's client, or null when it is off (it needs both the client id and the secret). */
export function googleClient(config: Pick<Config, "google">): GoogleClient | null {
  const { clientId, clientSecret, issuer } = config.google;
  return clientId && clientSecret ? { clientId, clientSecret, issuer } : null;
}

export const callbackUrl = (config: Pick<Config, "publicUrl">) => config.publicUrl + CALLBACK_PATH;

export function cookieOptions(config: Pick<Config, "publicUrl">, maxAgeSeconds: number) {
  return { httpOnly: true, sameSite: "lax" as const, secure: config.publicUrl.startsWith("https:"), path: COOKIE_PATH, maxAge: maxAgeSeconds };
}

const random = () => randomBytes(32).toString("base64url");

export function newFlow(): GoogleFlow {
  return { state: random(), nonce: random(), verifier: random() };
}

/** RFC 7636 S256: base64url(SHA-256(verifier)). */
export const pkceChallenge = (verifier: string) => sha256(verifier, "base64url");

/** One key per cookie purpose, derived from the dashboard secret (never the secret itself). */
function sealingKey(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync("sha256", secret, "talon-google-oidc", `cookie:${purpose}`, 32));
}

/** `iv | ciphertext | tag`, base64url: confidential, and any change makes `openCookie` refuse it. */
export function sealCookie<T>(secret: string, purpose: string, value: T, ttlSeconds: number, now = Date.now()): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", sealingKey(secret, purpose), iv);
  cipher.setAAD(Buffer.from(purpose));
  const body: Sealed<T> = { p: purpose, exp: now + ttlSeconds * 1000, v: value };
  const ct = Buffer.concat([cipher.update(JSON.stringify(body), "utf8"), cipher.final()]);
  return Buffer.concat([iv, ct, cipher.getAuthTag()]).toString("base64url");
}

/** The sealed value, or null when it is missing, tampered with, for another purpose or expired. */
export function openCookie(secret: string, purpose: string, sealed: string | undefined, now = Date.now()): unknown {
  if (!sealed || sealed.length > MAX_SEALED_LENGTH || !/^[A-Za-z0-9_-]+$/.test(sealed)) return null;
  const raw = Buffer.from(sealed, "base64url");
  if (raw.length < 12 + 16 + 1) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", sealingKey(secret, purpose), raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(purpose));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString("utf8");
    const body = JSON.parse(plain) as Sealed<unknown>;
    return body.p === purpose && typeof body.exp === "number" && body.exp > now ? body.v : null;
  } catch {
    return null;
  }
}

const isText = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= 256;

export function openFlow(secret: string, sealed: string | undefined, now = Date.now()): GoogleFlow | null {
  const v = openCookie(secret, FLOW_COOKIE, sealed, now) as Partial<GoogleFlow> | null;
  return v && isText(v.state) && isText(v.nonce) && isText(v.verifier) ? { state: v.state, nonce: v.nonce, verifier: v.verifier } : null;
}

/** Constant-time comparison of the state Google sent back with the one in the cookie. */
export function sameState(returned: string | null, expected: string): boolean {
  if (!returned || returned.length > 256) return false;
  return timingSafeEqual(sha256(returned), sha256(expected));
}

type Discovery = { authorizationEndpoint: string; tokenEndpoint: string; authMethods: string[] };
const discoveries = new Map<string, { doc: Discovery; fetchedAt: number }>();
const isHttpUrl = (v: unknown): v is string => typeof v === "string" && v.length <= 2048 && URL.canParse(v) && /^https?:$/.test(new URL(v).protocol);

/** The issuer's endpoints from its discovery document, cached for an hour; failures are not cached. */
export async function discover(issuer: string): Promise<Discovery> {
  const cached = discoveries.get(issuer);
  if (cached && Date.now() - cached.fetchedAt < DISCOVERY_TTL_MS) return cached.doc;
  const res = await fetch(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: "error" });
  if (!res.ok) throw new Error(`discovery answered ${res.status}`);
  const d = (await res.json()) as Record<string, unknown>;
  // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
  if (d.issuer !== issuer || !isHttpUrl(d.authorization_endpoint) || !isHttpUrl(d.token_endpoint)) throw new Error("discovery document does not match the issuer");
  const methods = Array.isArray(d.token_endpoint_auth_methods_supported) ? d.token_endpoint_auth_methods_supported.filter((m): m is string => typeof m === "string") : [];
  const doc = { authorizationEndpoint: d.authorization_endpoint, tokenEndpoint: d.token_endpoint, authMethods: methods };
  discoveries.set(issuer, { doc, fetchedAt: Date.now() });
  return doc;
}

export function authorizationUrl(d: Pick<Discovery, "authorizationEndpoint">, client: Pick<GoogleClient, "clientId">, redirectUri: string, flow: GoogleFlow): string {
  const url = new URL(d.authorizationEndpoint);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", client.clientId);
  url.searchParams.set("redirect_uri", redirectUri);
  url.searchParams.set("scope", SCOPE);
  url.searchParams.set("state", flow.state);
  url.searchParams.set("nonce", flow.nonce);
  url.searchParams.set("code_challenge", pkceChallenge(flow.verifier));
  url.searchParams.set("code_challenge_method", "S256");
  return url.toString();
}

/** RFC 6749 §2.3.1: id and secret are form-encoded before they are joined for HTTP Basic. */
const formEncode = (s: string) => new URLSearchParams({ s }).toString().slice(2);

/**
 * Redeems the code at the token endpoint (client_secret_basic, the OIDC default, unless the issuer
 * lists only client_secret_post) and returns the ID token. Errors name the status, never the body.
 */
export async function exchangeCode(d: Discovery, client: GoogleClient, input: { code: string; redirectUri: string; verifier: string }): Promise<string> {
  const form = new URLSearchParams({ grant_type: "authorization_code", code: input.code, redirect_uri: input.redirectUri, code_verifier: input.verifier });
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" };
  if (d.authMethods.includes("client_secret_post") && !d.authMethods.includes("client_secret_basic")) {
    form.set("client_id", client.clientId);
    form.set("client_secret", client.clientSecret);
  } else {
    headers.Authorization = `Basic ${Buffer.from(`${formEncode(client.clientId)}:${formEncode(client.clientSecret)}`).toString("base64")}`;
  }
  const res = await fetch(d.tokenEndpoint, { method: "POST", headers, body: form, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: "error" });
  if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
  const body = (await res.json()) as { id_token?: unknown; token_type?: unknown };
  if (typeof body.id_token !== "string" || body.id_token.length > 16_384) throw new Error("token response has no ID token");
  return body.id_token;
}

/** Every failure of the flow ends here, with nothing about the cause (or any code or token) in the URL. */
export const FAILED_LOCATION = "/login?notice=google-failed";

/** A 302 that no cache keeps (the responses also set or clear the flow's cookies). */
export const redirectTo = (location: string) => new Response(null, { status: 302, headers: { Location: location, "Cache-Control": "no-store" } });
