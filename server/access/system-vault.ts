import { ApiError } from "../http/errors";
import type { Principal } from "../http/principal";

/**
 * The org's system vault `__agent-keys` holds every agent's SSH private key. Talon creates it (no
 * creator, so nobody gets the creator bypass), nobody may take its name, it is never listed, never
 * deleted and takes no policies. Its whole access rule is here and replaces binding, policies and
 * the owner bypass for it:
 *   nobody writes: Talon alone stores a key, when it registers the agent;
 *   an agent reads its own key (`agents/<its id>`) and nothing else — its vault binding does not
 *     apply (a human binds agents among the org's ordinary vaults), its token's scopes do;
 *   org owners and admins read every key, within their token's scopes;
 *   everyone else: 403, whatever policy they hold (policies on this vault are never consulted).
 */
export const SYSTEM_VAULT_NAME = "__agent-keys";
/** `createdBy`/`createdByType` of the system vault (the migration marks existing ones the same way). */
export const SYSTEM_CREATOR = "system";
/** Vault names Talon keeps for itself: nobody creates one, agents included. */
export const RESERVED_VAULT_PREFIX = "__";

export const agentKeyPath = (agentId: string) => `agents/${agentId}`;
/** The agent's X25519 (ECDH) private key, beside its SSH key (server/agents/ecdh-keys.ts). */
export const agentEcdhKeyPath = (agentId: string) => `agents/${agentId}/ecdh`;

/**
 * Every vault row the access code sees carries `createdByType`, so the rule needs no extra column in
 * the hot path's SELECT; `isSystem` is honoured too where a caller has it.
 */
export const isSystemVault = (v: { createdByType: string; isSystem?: boolean }) => v.isSystem === true || v.createdByType === SYSTEM_CREATOR;

const isOrgAdmin = (p: Principal) => p.kind === "user" && (p.role === "owner" || p.role === "admin");
const isOwnKey = (p: Principal, path: string) => p.kind === "agent" && (path === agentKeyPath(p.agentId) || path === agentEcdhKeyPath(p.agentId));

const RULE = "holds agents' SSH keys: only org owners and admins, and each agent for its own key, can read it";
const unreadable = () => ApiError.forbidden(`The system vault ${SYSTEM_VAULT_NAME} ${RULE}.`);
const outOfScopes = () => ApiError.forbidden("Your token's scopes do not cover this path. Ask a human to widen the scopes, then get a new token.");

/** One operation on one path of the system vault; `inScopes` is the caller's token-scope ceiling for that path. */
export function assertSystemVaultPathAccess(p: Principal, path: string, op: "read" | "write" | "use", inScopes: boolean): void {
  if (op === "write") throw ApiError.forbidden(`The system vault ${SYSTEM_VAULT_NAME} is written only by Talon, when it registers an agent.`);
  if (!isOwnKey(p, path) && !isOrgAdmin(p)) throw unreadable();
  if (!inScopes) throw outOfScopes();
}

/** For listings of the system vault: which paths the caller may see (403 when none can be). */
export function systemVaultReadablePaths(p: Principal, inScopes: (path: string) => boolean): (path: string) => boolean {
  if (p.kind === "agent") return (path) => isOwnKey(p, path) && inScopes(path);
  if (!isOrgAdmin(p)) throw unreadable();
  return inScopes;
}

/** The vault's own record: for those who can read something in it. */
export function assertSystemVaultVisible(p: Principal): void {
  if (p.kind !== "agent" && !isOrgAdmin(p)) throw unreadable();
}

/** Nobody manages it: no policies, no deletion — owners and admins included. */
export function refuseSystemVaultManagement(): ApiError {
  return ApiError.forbidden(`${SYSTEM_VAULT_NAME} is Talon's system vault: nobody can delete it or grant policies on it, owners and admins included. It ${RULE}.`);
}

/** Creating a vault with a reserved name is a conflict for everyone, as if Talon's vault already held it. */
export function assertVaultNameFree(name: string): void {
  if (name.startsWith(RESERVED_VAULT_PREFIX)) {
    throw ApiError.conflict(`Vault names starting with "${RESERVED_VAULT_PREFIX}" are reserved for Talon's system vaults (such as ${SYSTEM_VAULT_NAME}); choose another name.`);
  }
}
