import { timingSafeEqual } from "node:crypto";
import type { AgentTokenRequest, AgentTokenResponse } from "../../lib/contract/agents";
import type { AuditInput } from "../audit/writer";
import { ApiError } from "../http/errors";
import type { PublicCtx } from "../http/principal";
import { DpopProofError, type DpopRequest, thumbprintOfBodyKey, verifyDpopProof } from "../identity/dpop";
import { verifyOidcAssertion } from "../identity/oidc-agents";
import { recordActivity } from "../identity/activity";
import { recordAnonymousFailure } from "../identity/failures";
import type { AgentScopeSource } from "../identity/tokens";
import { agentKeyMatches, parseAgentKey } from "./api-keys";
import { effectiveScopes, parseList } from "./records";
import { agentForExchange } from "./repo";

export const DEFAULT_AGENT_TOKEN_TTL_SECONDS = 3600;
/** SHA-256 fingerprints are 64 hex digits; a missing one is compared against this stand-in. */
const NO_FINGERPRINT = "0".repeat(64);

/** Constant time, and one comparison even when the agent or the certificate is missing. */
function fingerprintMatches(expected: string | null, presented: string | null): boolean {
  const a = Buffer.from(expected ?? NO_FINGERPRINT);
  const b = Buffer.from(presented ?? NO_FINGERPRINT);
  const same = a.length === b.length && timingSafeEqual(a, b);
  if (a.length !== b.length) timingSafeEqual(a, a);
  return same && expected !== null && presented !== null;
}

/**
 * POST /v1/auth/agent-token: proves the agent's identity one of three ways, chosen by what the body
 * carries and checked against the agent's auth_method —
 *  - `api_key`: the agent's `ocv_` key;
 *  - `client_assertion`: a JWT from the agent's OIDC issuer (oidc_client_credentials);
 *  - neither: the TLS client certificate of this connection (mtls), whose SHA-256 must equal the
 *    agent's client_cert_fingerprint — read from the socket when Talon terminates TLS, or from the
 *    trusted proxy's header (see server/http/tls.ts).
 * Every failure is the same 401 "Invalid credentials"; only a caller who proved the identity learns
 * that the agent is deactivated or expired. A failure costs the same whether or not the agent
 * exists — the same key or fingerprint comparison, and one audit event either way (an unknown
 * agent's goes to the anonymous log, having no org) — so timing does not tell which agent ids exist.
 *
 * DPoP (RFC 9449): a `DPoP` proof header on this request, or a public `dpop_jwk` in the body (the
 * card's clients), or both naming the same key, binds the token to that key (`cnf.jkt`,
 * `token_type: "DPoP"`). The binding is settled before the agent is looked up, so a bad proof or key
 * is the same 400 for any agent and changes nothing about the timing above.
 */
export async function exchangeAgentToken(ctx: PublicCtx, input: AgentTokenRequest, clientCert: string | null, dpop: DpopRequest): Promise<AgentTokenResponse> {
  const { rt } = ctx;
  const jkt = await dpopBinding(ctx, input, dpop);
  const presentedKey = input.api_key !== undefined ? parseAgentKey(input.api_key) : null;
  // `{ api_key }` alone names its agent by the key's non-secret prefix (one indexed lookup, as by id);
  // the key is still proven by its hash below, so the prefix grants nothing by itself.
  const agent = await agentForExchange(rt.db, input.agent_id !== undefined ? { id: input.agent_id } : { keyPrefix: presentedKey?.keyPrefix ?? "" });

  let proven = false;
  if (input.api_key !== undefined) {
    // Compared even for an unknown agent, so its absence costs the same time as a wrong key.
    proven = agentKeyMatches(agent?.authMethod === "api_key" ? agent.keyHash : null, presentedKey);
  } else if (input.client_assertion !== undefined) {
    proven = agent?.authMethod === "oidc_client_credentials" && (await verifyOidcAssertion(rt.config, agent, input.client_assertion, ctx.requestId));
  } else {
    const expected = agent?.authMethod === "mtls" ? agent.clientCertFingerprint : null;
    proven = fingerprintMatches(expected, clientCert);
  }
  const method = input.api_key !== undefined ? "api_key" : input.client_assertion !== undefined ? "oidc_client_credentials" : "mtls";

  if (!agent || !proven) {
    // Nothing was proved, so the agent is the target, not the actor: anonymous, and bounded per
    // claimed agent before it reaches the org's chain. An unknown agent takes the same path (same
    // counter and audit write, in no org's log), so timing does not tell which agent ids exist.
    const target = agent ? { kind: "agent" as const, id: agent.id, orgId: agent.orgId } : { kind: "agent" as const, id: input.agent_id ?? "", orgId: "" };
    await recordAnonymousFailure(ctx, target, { method, reason: "invalid_credentials" });
    throw ApiError.unauthorized();
  }
  // From here the caller proved it is this agent.
  const record = (action: string, details: AuditInput["details"]) =>
    rt.audit.record(ctx, { action, resourceType: "agent", resourceId: agent.id, details }, { orgId: agent.orgId, actorId: `agent:${agent.id}`, actorType: "agent" });
  if (!agent.isActive) {
    await record("auth.failure", { method, reason: "deactivated" });
    throw ApiError.unauthorized("Agent is deactivated");
  }
  if (agent.expiresAt && agent.expiresAt.getTime() <= Date.now()) {
    await record("auth.failure", { method, reason: "expired" });
    throw ApiError.unauthorized("Agent has expired");
  }

  const vaultIds = parseList(agent.vaultIds);
  const scopes = await effectiveScopes(rt.db, agent);
  // Explicit scopes are a ceiling; derived ones only tell the client what its policies allowed at
  // issue time (authentication ignores them, the policies are decided live): the claim says which.
  const scopeSource: AgentScopeSource = parseList(agent.scopes).length > 0 ? "explicit" : "derived";
  const ttl = agent.tokenTtlSeconds ?? DEFAULT_AGENT_TOKEN_TTL_SECONDS;
  const issued = await rt.tokens.issue(
    {
      sub: `agent:${agent.id}`,
      org: agent.orgId,
      scopes,
      scope_source: scopeSource,
      vault_ids: vaultIds,
      crypto_proxy_enabled: agent.cryptoProxyEnabled,
      tv: agent.tokenVersion,
      ...(jkt === null ? {} : { cnf: { jkt } }),
    },
    ttl,
  );
  await Promise.all([
    record("auth.success", { method, jti: issued.jti, ...(jkt === null ? {} : { dpop_jkt: jkt }) }),
    recordActivity(rt.db, "agent", agent.id, agent.lastActiveAt?.getTime() ?? null),
  ]);
  return { access_token: issued.token, token_type: jkt === null ? "bearer" : "DPoP", expires_in: issued.expiresIn, agent_id: agent.id, vault_ids: vaultIds };
}

/** The key thumbprint to bind the token to, or null for an unbound token; a bad key or proof is a 400. */
async function dpopBinding(ctx: PublicCtx, input: AgentTokenRequest, dpop: DpopRequest): Promise<string | null> {
  const bodyJkt = input.dpop_jwk === undefined ? null : thumbprintOfBodyKey(input.dpop_jwk);
  if (dpop.proof === undefined) return bodyJkt;
  let proofJkt: string;
  try {
    proofJkt = await verifyDpopProof(ctx.rt, dpop, {});
  } catch (e) {
    if (e instanceof DpopProofError) throw ApiError.badRequest(`Invalid DPoP proof: ${e.message}`, [{ field: "DPoP", message: e.message }]);
    throw e;
  }
  if (bodyJkt !== null && bodyJkt !== proofJkt) {
    throw ApiError.badRequest("dpop_jwk is not the key that signed the DPoP proof: send one key", [{ field: "dpop_jwk", message: "differs from the DPoP proof's key" }]);
  }
  return proofJkt;
}
