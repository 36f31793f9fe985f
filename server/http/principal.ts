import type { Runtime } from "../runtime";
import { ApiError } from "./errors";

export type OrgRole = "owner" | "admin" | "member";

export type UserPrincipal = {
  kind: "user";
  userId: string;
  orgId: string;
  role: OrgRole;
  /** How the caller authenticated: a user JWT, a personal `1ck_` key, or a dashboard session. */
  via: "jwt" | "api_key" | "session";
  /** The JWT's jti, the API key's id, or the dashboard session's id. */
  credentialId: string;
  /** Token expiry (epoch seconds) for JWTs; bounds a revocation's denylist entry. */
  expiresAt?: number;
  /** A personal key's scopes (path patterns); absent = no ceiling beyond the user's own rights. */
  scopes?: string[];
};

export type AgentPrincipal = {
  kind: "agent";
  agentId: string;
  orgId: string;
  /** The human who registered the agent (`creator` shares go to them). */
  createdBy: string;
  via: "jwt" | "api_key" | "mtls" | "oidc";
  credentialId: string;
  expiresAt?: number;
  /** Path-pattern ceiling: the agent's explicit scopes only (scopes derived from policies are no ceiling; [] = none). */
  scopes: string[];
  /** Vault binding: non-empty = only these vaults. */
  vaultIds: string[];
  cryptoProxyEnabled: boolean;
  /** The key thumbprint a DPoP-bound token is bound to (`cnf.jkt`); this request proved possession of it. */
  dpopJkt?: string;
};

export type Principal = UserPrincipal | AgentPrincipal;

/** A human who signed in (API token or dashboard session), as opposed to one using a personal API key. */
export const signedIn = (p: Principal) => p.kind === "user" && p.via !== "api_key";

export const principalRef = (p: Principal) => (p.kind === "user" ? `user:${p.userId}` : `agent:${p.agentId}`);
export const principalId = (p: Principal) => (p.kind === "user" ? p.userId : p.agentId);

/** What every service call receives: the caller, the request, and the process-wide runtime. */
export type Ctx = { rt: Runtime; principal: Principal; requestId: string; ip: string };
export type UserCtx = Ctx & { principal: UserPrincipal };
/** For the few operations that run before anyone is authenticated (signup, login). */
export type PublicCtx = { rt: Runtime; requestId: string; ip: string };

/** Narrows to a human caller; agents get 403 on human-only operations. */
export function requireUser(ctx: Ctx): UserCtx {
  if (ctx.principal.kind !== "user") throw ApiError.forbidden("This operation is available to human users only");
  return ctx as UserCtx;
}

/**
 * Minting a credential that outlives the caller's own (an agent, an agent key, an invitation, an API
 * key, MFA) needs an interactive sign-in: a user JWT from login or a dashboard session. A personal
 * `1ck_` key, or a JWT exchanged from one, must not turn itself into something that survives its
 * revocation. `what` names the operation ("Registering an agent").
 */
export function requireInteractiveUser(ctx: Ctx, what: string): UserCtx {
  const user = requireUser(ctx);
  if (!signedIn(user.principal)) {
    throw ApiError.forbidden(
      `${what} needs an interactive sign-in, not a personal API key (1ck_) or a token exchanged from one: sign in with your password (POST /v1/auth/token) or use the dashboard.`,
    );
  }
  return user;
}
