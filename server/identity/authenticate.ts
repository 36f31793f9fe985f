import { timingSafeEqual } from "node:crypto";
import { type AtOnce, thenAtOnce } from "../../lib/at-once";
import { isJwtShaped } from "../../lib/jwt-shape";
import { pathPatternProblem } from "../../lib/path-glob";
import { AGENT_KEY_PREFIX, agentKeyMatches, parseAgentKey } from "../agents/api-keys";
import { parseList } from "../agents/records";
import { ApiError } from "../http/errors";
import type { AgentPrincipal, OrgRole, Principal } from "../http/principal";
import { log } from "../log";
import type { Runtime } from "../runtime";
import { recordActivity } from "./activity";
import { parsePersonalKey, PERSONAL_KEY_PREFIX } from "./personal-key";
import { DpopProofError, type DpopRequest, dpopUnauthorized, verifyDpopProof } from "./dpop";
import { agentByKeyPrefix, agentForJwt, personalKeyByPrefix, userForJwt } from "./repo";
import { userClaimsOf, type VerifiedClaims } from "./tokens";

const AGENT_SUB = /^agent:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * How a request presented its credential, for DPoP-bound agent tokens (RFC 9449): the
 * Authorization scheme, and the request a proof must match. `attestedJkt` is set only in process,
 * by the hosted MCP endpoint for the API calls its tools make while serving a request whose own
 * proof for that key was verified; no HTTP request can set it.
 */
export type DpopPresentation = { scheme: "bearer" | "dpop"; request: DpopRequest; attestedJkt?: string };
export type AuthMeta = { ip: string; requestId: string; dpop?: DpopPresentation };

/**
 * Turns a bearer credential into a principal, or throws the one 401. Runs on every authenticated
 * request, so each JWT costs a single indexed query that reads the principal's current state *and*
 * the revocation denylist together (a LEFT JOIN on the token's jti; ./repo.ts, on the driver): a
 * revoked token, a bumped token version (password change; agent deactivation, key rotation, scope
 * change) or a deleted agent fail on the next request, on every instance sharing the database. The
 * signature check is cached by token hash (TokenService); the principal rows are cached only until the
 * next write to a table they come from, on any instance (./repo.ts, server/db/invalidation.ts).
 * Keys (`1ck_`, `ocv_`) are looked up by their non-secret prefix and compared by hash in constant time.
 * A JWT verified before, or an `ocv_` key, whose principal's row is cached is answered at once (the
 * principal, or the 401 thrown), without a promise; otherwise a promise of it. Callers await it
 * inside a `try` or an async function, so a throw and a rejection are handled alike.
 */
export function authenticateBearer(rt: Runtime, bearer: string, meta: AuthMeta): AtOnce<Principal> {
  // Only agent tokens can be DPoP-bound: anything else sent with the DPoP scheme is refused.
  const dpopScheme = meta.dpop?.scheme === "dpop";
  if (bearer.startsWith(PERSONAL_KEY_PREFIX)) {
    if (dpopScheme) throw notDpopBound();
    return authenticatePersonalKey(rt, bearer, meta);
  }
  if (bearer.startsWith(AGENT_KEY_PREFIX)) {
    if (dpopScheme) throw notDpopBound();
    return authenticateAgentKey(rt, bearer, meta);
  }
  // A token verified before is JWT-shaped; the shape is checked (and the signature) only on a miss.
  const known = rt.tokens.verifiedBefore(bearer);
  if (known !== undefined) return principalOfToken(rt, known, bearer, meta);
  if (isJwtShaped(bearer)) return rt.tokens.verify(bearer).then((verified) => principalOfToken(rt, verified, bearer, meta));
  throw ApiError.unauthorized();
}

function principalOfToken(rt: Runtime, verified: VerifiedClaims, bearer: string, meta: AuthMeta): AtOnce<Principal> {
  if (AGENT_SUB.test(verified.sub)) return authenticateAgentJwt(rt, verified, bearer, meta);
  if (meta.dpop?.scheme === "dpop") throw notDpopBound();
  return authenticateUserJwt(rt, verified);
}

const notDpopBound = () => dpopUnauthorized("only a DPoP-bound agent token is sent with the DPoP scheme; send this credential as Bearer", "invalid_token");
const JKT_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** The key thumbprint a token is bound to (`cnf.jkt`), null when unbound; a damaged `cnf` is the one 401. */
function boundKeyOf(claims: VerifiedClaims): string | null {
  if (claims.cnf === undefined) return null;
  const jkt = (claims.cnf as { jkt?: unknown } | null)?.jkt;
  if (typeof jkt !== "string" || !JKT_SHAPE.test(jkt)) throw ApiError.unauthorized();
  return jkt;
}

/**
 * A bound token proves possession on every request: a fresh proof by its key for this method and
 * URL, carrying the token's hash (`ath`), never seen before. Bearer and DPoP schemes both need it
 * (a bound token is never a plain bearer token, so presenting it as Bearer downgrades nothing).
 */
async function provePossession(rt: Runtime, jkt: string, token: string, dpop: DpopPresentation | undefined): Promise<void> {
  if (dpop?.attestedJkt === jkt) return;
  if (!dpop) throw dpopUnauthorized("a DPoP proof header is required with this token");
  try {
    await verifyDpopProof(rt, dpop.request, { jkt, accessToken: token });
  } catch (e) {
    if (e instanceof DpopProofError) throw dpopUnauthorized(e.message);
    throw e;
  }
}

/** Raw rows carry dates as Date (PostgreSQL) or epoch-ms numbers (SQLite), booleans as 0/1 on SQLite. */
function epochMs(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.getTime();
  if (typeof v === "number" || typeof v === "bigint") return Number(v);
  const parsed = Date.parse(String(v));
  return Number.isNaN(parsed) ? null : parsed;
}
const truthy = (v: unknown) => v === true || v === 1 || v === 1n;
const live = (expiresAt: unknown, now = Date.now()) => {
  const ms = epochMs(expiresAt);
  return ms === null || ms > now;
};

/** Stands in for a stored scope that is not a valid pattern: no secret path contains `:`, so it matches nothing. */
const UNMATCHABLE_SCOPE = ":invalid-scope:";

/**
 * A personal key's stored scopes as the principal's path ceiling. Rows written before scopes were
 * patterns (e.g. "vaults:read") or damaged rows must narrow, never widen: each entry that is not a
 * valid pattern becomes one that matches nothing, so such a key reaches no secret at all; only a
 * list that is truly empty means "no ceiling".
 */
function personalKeyScopes(stored: unknown): string[] {
  let list: unknown;
  try {
    list = typeof stored === "string" ? JSON.parse(stored) : null;
  } catch {
    list = null;
  }
  if (!Array.isArray(list)) return [UNMATCHABLE_SCOPE];
  return [...new Set(list.map((s) => (typeof s === "string" && pathPatternProblem(s) === null ? s : UNMATCHABLE_SCOPE)))];
}

type UserJwtRow = {
  orgId: string;
  role: string;
  tokenVersion: unknown;
  revoked: string | null;
  keyUserId: string | null;
  keyActive: unknown;
  keyExpiresAt: unknown;
  keyScopes: unknown;
};

/**
 * A user JWT. One minted from a personal key (`akid`, see TokenService.issueApiKeyUserToken) stands
 * for that key: it dies with the key, counts as key use (`via: "api_key"`), so it cannot mint keys,
 * and carries the key's scopes as read now, in the same query — never a copy frozen in the token.
 */
function authenticateUserJwt(rt: Runtime, verified: VerifiedClaims): AtOnce<Principal> {
  const claims = userClaimsOf(verified);
  if (!claims) throw ApiError.unauthorized();
  const akid = typeof verified.akid === "string" ? verified.akid : null;
  const found = userForJwt(rt.db, claims.userId, claims.jti, akid ?? "");
  return thenAtOnce(found, (row) => userPrincipalOf(claims, akid, row as UserJwtRow | undefined));
}

function userPrincipalOf(claims: NonNullable<ReturnType<typeof userClaimsOf>>, akid: string | null, row: UserJwtRow | undefined): Principal {
  if (!row || row.revoked !== null || Number(row.tokenVersion) !== claims.tokenVersion || row.orgId !== claims.orgId) throw ApiError.unauthorized();
  const base = { kind: "user" as const, userId: claims.userId, orgId: row.orgId, role: row.role as OrgRole, credentialId: claims.jti, expiresAt: claims.expiresAt };
  if (akid === null) return { ...base, via: "jwt" };
  if (row.keyUserId !== claims.userId || !truthy(row.keyActive) || !live(row.keyExpiresAt)) throw ApiError.unauthorized();
  return { ...base, via: "api_key", scopes: personalKeyScopes(row.keyScopes) };
}

type AgentJwtRow = {
  orgId: string;
  isActive: unknown;
  expiresAt: unknown;
  tokenVersion: unknown;
  createdBy: string;
  lastActiveAt: unknown;
  revoked: string | null;
};

const stringList = (v: unknown): string[] | null => (Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : null);

/** An agent JWT: the agent still exists in that org, is active and unexpired, at the token's version. */
function authenticateAgentJwt(rt: Runtime, claims: VerifiedClaims, token: string, meta: AuthMeta): AtOnce<AgentPrincipal> {
  const agentId = AGENT_SUB.exec(claims.sub)![1]!;
  const scopes = stringList(claims.scopes);
  const vaultIds = stringList(claims.vault_ids);
  const scopeSource = claims.scope_source;
  if (!scopes || !vaultIds || typeof claims.crypto_proxy_enabled !== "boolean" || !Number.isSafeInteger(claims.tv)) throw ApiError.unauthorized();
  if (scopeSource !== undefined && scopeSource !== "explicit" && scopeSource !== "derived") throw ApiError.unauthorized();
  const jkt = boundKeyOf(claims);
  if (jkt === null && meta.dpop?.scheme === "dpop") throw notDpopBound();
  // Explicit scopes, vault binding and the crypto flag come from the token: changing any of them
  // bumps the agent's token version, so a token that passes the row's checks carries the current values.
  // Derived scopes are only a summary of the agent's policies for clients to read; the policies
  // themselves are decided live on every request, so a derived list is no ceiling (it would go stale
  // the moment a human grants or revokes). A token minted before `scope_source` existed keeps its
  // list as a ceiling: it can only narrow what its policies allow.
  const bound = { agentId, scopes: scopeSource === "derived" ? [] : scopes, vaultIds, cryptoProxyEnabled: claims.crypto_proxy_enabled, jkt };
  // The proof (signature, then its jti insert) runs beside the principal's query, not after it; a
  // bearer token (the common case) takes a cached row at once, or waits for the query alone.
  const query = agentForJwt(rt.db, agentId, claims.jti);
  if (jkt !== null) return Promise.all([query, provePossession(rt, jkt, token, meta.dpop)]).then(([row]) => agentPrincipalOf(rt, claims, bound, meta, row as AgentJwtRow | undefined));
  return thenAtOnce(query, (row) => agentPrincipalOf(rt, claims, bound, meta, row as AgentJwtRow | undefined));
}

type AgentJwtClaims = { agentId: string; scopes: string[]; vaultIds: string[]; cryptoProxyEnabled: boolean; jkt: string | null };

function agentPrincipalOf(rt: Runtime, claims: VerifiedClaims, token: AgentJwtClaims, meta: AuthMeta, row: AgentJwtRow | undefined): AgentPrincipal {
  if (!row || row.revoked !== null || row.orgId !== claims.org || Number(row.tokenVersion) !== claims.tv || !truthy(row.isActive) || !live(row.expiresAt)) {
    throw ApiError.unauthorized();
  }
  recordAgentActivity(rt, token.agentId, row.lastActiveAt, meta);
  return {
    kind: "agent",
    agentId: token.agentId,
    orgId: row.orgId,
    createdBy: row.createdBy,
    via: "jwt",
    credentialId: claims.jti,
    expiresAt: claims.exp,
    scopes: token.scopes,
    vaultIds: token.vaultIds,
    cryptoProxyEnabled: token.cryptoProxyEnabled,
    ...(token.jkt === null ? {} : { dpopJkt: token.jkt }),
  };
}

type AgentKeyRow = {
  id: string;
  orgId: string;
  keyHash: string | null;
  authMethod: string;
  isActive: unknown;
  expiresAt: unknown;
  lastActiveAt: unknown;
  createdBy: string;
  scopes: string;
  vaultIds: string;
  cryptoProxyEnabled: unknown;
};

/** An `ocv_` key used directly as Bearer: the same checks as the exchange, on every request. */
function authenticateAgentKey(rt: Runtime, key: string, meta: AuthMeta): AtOnce<AgentPrincipal> {
  const parsed = parseAgentKey(key);
  const found = parsed ? agentByKeyPrefix(rt.db, parsed.keyPrefix) : undefined;
  return thenAtOnce(found, (agent) => agentKeyPrincipalOf(rt, parsed, agent as AgentKeyRow | undefined, meta));
}

function agentKeyPrincipalOf(rt: Runtime, parsed: ReturnType<typeof parseAgentKey>, agent: AgentKeyRow | undefined, meta: AuthMeta): AgentPrincipal {
  if (!agentKeyMatches(agent?.keyHash, parsed) || !agent || agent.authMethod !== "api_key") throw ApiError.unauthorized();
  if (!truthy(agent.isActive) || !live(agent.expiresAt)) throw ApiError.unauthorized();
  recordAgentActivity(rt, agent.id, agent.lastActiveAt, meta);
  return {
    kind: "agent",
    agentId: agent.id,
    orgId: agent.orgId,
    createdBy: agent.createdBy,
    via: "api_key",
    credentialId: agent.id,
    // Only explicit scopes are a ceiling; derived ones are the live policies, decided per request.
    scopes: parseList(agent.scopes),
    vaultIds: parseList(agent.vaultIds),
    cryptoProxyEnabled: truthy(agent.cryptoProxyEnabled),
  };
}

function recordAgentActivity(rt: Runtime, agentId: string, lastActiveAt: unknown, meta: AuthMeta) {
  // Not awaited: advisory bookkeeping must not add a round trip to the request.
  recordActivity(rt.db, "agent", agentId, epochMs(lastActiveAt))?.catch((e: unknown) =>
    log.warn("could not record agent activity", { requestId: meta.requestId, error: e instanceof Error ? e.name : "unknown" }),
  );
}

type KeyRow = {
  id: string;
  orgId: string;
  userId: string;
  keyHash: string;
  scopes: unknown;
  isActive: unknown;
  expiresAt: unknown;
  lastUsedAt: unknown;
  role: string;
  userOrgId: string;
};

async function authenticatePersonalKey(rt: Runtime, key: string, meta: AuthMeta): Promise<Principal> {
  const parsed = parsePersonalKey(key);
  if (!parsed) throw ApiError.unauthorized();
  // One round trip: the key with its owner's role (Prisma's `include` would cost a second query).
  const found = personalKeyByPrefix(rt.db, parsed.keyPrefix);
  const row = (found instanceof Promise ? await found : found) as KeyRow | undefined;
  const stored = row ? Buffer.from(row.keyHash, "hex") : null;
  if (!row || !stored || stored.length !== parsed.hash.length || !timingSafeEqual(stored, parsed.hash)) throw ApiError.unauthorized();
  const now = Date.now();
  if (!truthy(row.isActive) || !live(row.expiresAt, now) || row.userOrgId !== row.orgId) throw ApiError.unauthorized();
  await recordActivity(rt.db, "apiKey", row.id, epochMs(row.lastUsedAt))?.catch((e: unknown) =>
    log.warn("could not record api key use", { requestId: meta.requestId, error: e instanceof Error ? e.name : "unknown" }),
  );
  return { kind: "user", userId: row.userId, orgId: row.orgId, role: row.role as OrgRole, via: "api_key", credentialId: row.id, scopes: personalKeyScopes(row.scopes) };
}
