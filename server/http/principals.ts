/**
 * Who is calling: the principal kinds and their stable references. No runtime here, so the audit
 * writer (which the runtime builds) can name principals without a cycle through server/runtime.
 */
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
