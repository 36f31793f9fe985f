import { type AtOnce, thenAtOnce } from "../../lib/at-once";
import { matchPathPattern } from "../../lib/path-glob";
import { parseStoredApproval, POLICY_PERMISSIONS, type PolicyPermission } from "../../lib/contract/policies";
import { breakGlassActive, passApprovalGate } from "../approvals/gate";
import { ApiError } from "../http/errors";
import type { Ctx, Principal } from "../http/principal";
import { type CompiledConditions, compileConditions, conditionsHold, parseStoredConditions } from "./conditions";
import { policiesForPrincipalOnVault } from "./repo";
import { assertSystemVaultPathAccess, assertSystemVaultVisible, isSystemVault, refuseSystemVaultManagement, systemVaultReadablePaths } from "./system-vault";

/**
 * The access decision for vaults and secret paths, in one place. Order:
 *   org (another org's vault → 404; the loaders already filter by org, this is defence in depth)
 *   → vault binding (an agent with non-empty `vault_ids` reaches only those vaults → 403)
 *   → token scopes (a personal key's scopes, or an agent's *explicit* scopes, are a ceiling on paths →
 *     403; scopes an agent token merely derived from its policies are not: the policies decide live)
 *   → policies for this principal on this vault (live: not expired, conditions hold for this request;
 *     a matching deny beats every allow, and beats the owner bypass too → 403; a matching allow → ok)
 *   → owner bypass (the vault's creator, user or agent; and, for humans, org owners and admins)
 *   → 403 telling the caller to ask for a policy.
 * Talon's system vault (`__agent-keys`) has its own rule after the org check: ./system-vault.ts.
 * Org members who are neither owner/admin nor the vault's creator need a policy, like agents.
 * `priority` is stored but does not change the outcome: deny-over-allow is order independent.
 * Secret decisions take the *path*, never the secret row, so they run before existence is looked
 * at and a 403 never says whether the path exists.
 */
export type Operation = PolicyPermission;
export type VaultForAccess = { id: string; orgId: string; createdBy: string; createdByType: string };

export type PolicyRule = {
  vaultId: string;
  effect: "allow" | "deny";
  pattern: string;
  permissions: Operation[];
  conditions: CompiledConditions;
  expiresAt: Date | null;
  /** Actions of this policy that wait for a human's approval (issue 14); empty = none. */
  approvalActions: Operation[];
};

type PolicyRow = { vaultId: string; secretPathPattern: string; permissions: string; conditions: string; effect: string; expiresAt: Date | null; approval: string | null };

const POLICY_SELECT = { vaultId: true, secretPathPattern: true, permissions: true, conditions: true, effect: true, expiresAt: true, approval: true } as const;

function toRule(r: PolicyRow): PolicyRule {
  const perms = JSON.parse(r.permissions) as unknown;
  return {
    vaultId: r.vaultId,
    // Anything but an explicit allow is treated as deny: a damaged row must not widen access.
    effect: r.effect === "allow" ? "allow" : "deny",
    pattern: r.secretPathPattern,
    permissions: Array.isArray(perms) ? perms.filter((p): p is Operation => (POLICY_PERMISSIONS as readonly unknown[]).includes(p)) : [],
    conditions: compileConditions(parseStoredConditions(r.conditions)),
    expiresAt: r.expiresAt,
    approvalActions: parseStoredApproval(r.approval)?.actions ?? [],
  };
}

const principalWhere = (p: Principal) => ({
  orgId: p.orgId,
  principalType: p.kind,
  principalId: p.kind === "user" ? p.userId : p.agentId,
});

/**
 * Rules compiled once per row list: ./repo's cache hands out the same list until a change to the org's
 * policies replaces it (or, with the cache bypassed, a fresh one per load), so a rule is never older
 * than the rows it came from. Shared between requests, hence read-only.
 */
const compiled = new WeakMap<readonly PolicyRow[], readonly PolicyRule[]>();

function rulesOf(rows: readonly PolicyRow[]): readonly PolicyRule[] {
  let rules = compiled.get(rows);
  if (!rules) compiled.set(rows, (rules = rows.map(toRule)));
  return rules;
}

type Rules = readonly PolicyRule[];

/** Per-request memo: a request loads the principal's policies on a vault once, with one indexed query. */
const loaded = new WeakMap<Ctx, Map<string, AtOnce<Rules>>>();

/**
 * The principal's rules on a vault: at once when ./repo's cache holds them (no promise, no turn: the
 * hot path's decision), else the promise of their load, which every later ask in the request shares.
 */
export function policiesOnVault(ctx: Ctx, vaultId: string): AtOnce<Rules> {
  let byVault = loaded.get(ctx);
  if (!byVault) loaded.set(ctx, (byVault = new Map()));
  let rules = byVault.get(vaultId);
  if (rules === undefined) {
    const rows = policiesForPrincipalOnVault(ctx.rt.db, principalWhere(ctx.principal), vaultId);
    if (rows instanceof Promise) {
      const later = rows.then(rulesOf);
      // A caller that throws before awaiting (e.g. unknown vault) must not leave an unhandled rejection.
      later.catch(() => undefined);
      rules = later;
    } else rules = rulesOf(rows);
    byVault.set(vaultId, rules);
  }
  return rules;
}

/** `policiesOnVault`, awaited only when it has to load. */
async function policiesLoaded(ctx: Ctx, vaultId: string): Promise<Rules> {
  const rules = policiesOnVault(ctx, vaultId);
  return rules instanceof Promise ? await rules : rules;
}

/** Every policy naming the principal in its org (vault listings). */
async function policiesOfPrincipal(ctx: Ctx): Promise<PolicyRule[]> {
  const rows = await ctx.rt.db.policy.findMany({ where: principalWhere(ctx.principal), select: POLICY_SELECT });
  return rows.map(toRule);
}

const applies = (ctx: Ctx, now: Date) => (r: PolicyRule) =>
  (r.expiresAt === null || r.expiresAt.getTime() > now.getTime()) && conditionsHold(r.conditions, ctx.ip, now);

export const isVaultCreator = (p: Principal, vault: VaultForAccess) =>
  vault.createdByType === p.kind && vault.createdBy === (p.kind === "user" ? p.userId : p.agentId);

function ownerBypass(p: Principal, vault: VaultForAccess): boolean {
  return isVaultCreator(p, vault) || (p.kind === "user" && (p.role === "owner" || p.role === "admin"));
}

export const noPolicy = (op: Operation) =>
  ApiError.forbidden(
    `No policy grants you ${op} access to this path in this vault. Ask a human to grant access with a policy (POST /v1/vaults/{id}/policies).`,
  );

export function assertSameOrg(ctx: Ctx, vault: VaultForAccess): void {
  if (vault.orgId !== ctx.principal.orgId) throw ApiError.notFound("Vault not found");
}

function assertBinding(ctx: Ctx, vault: VaultForAccess): void {
  const p = ctx.principal;
  if (p.kind === "agent" && p.vaultIds.length > 0 && !p.vaultIds.includes(vault.id)) {
    throw ApiError.forbidden("This agent is bound to other vaults (vault_ids). Ask a human to add this vault to the agent's vault_ids.");
  }
}

function scopesOf(p: Principal): string[] {
  return p.kind === "agent" ? p.scopes : (p.scopes ?? []);
}

function withinScopes(p: Principal, path: string): boolean {
  const scopes = scopesOf(p);
  return scopes.length === 0 || scopes.some((s) => matchPathPattern(s, path));
}

/**
 * Whether a rule speaks about `op`: `read` implies `use`, for allow and deny alike (a denied read is a
 * denied use); and a denied `use` is a denied read too — a value Talon may not use for you, you may not see.
 */
const coversOp = (r: PolicyRule, op: Operation) =>
  r.permissions.includes(op) || (op === "use" && r.permissions.includes("read")) || (op === "read" && r.effect === "deny" && r.permissions.includes("use"));

/** What the live policies say about `op` on `path`: a matching deny wins over any matching allow. */
function policyVerdict(rules: PolicyRule[], path: string, op: Operation): "allow" | "deny" | "none" {
  let verdict: "allow" | "none" = "none";
  for (const r of rules) {
    if (!coversOp(r, op) || !matchPathPattern(r.pattern, path)) continue;
    if (r.effect === "deny") return "deny";
    verdict = "allow";
  }
  return verdict;
}

/**
 * Whether every allow that matches `op` here requires a human's approval for it (`use` waits where
 * `read` does: read implies use). One matching allow without the requirement lets the request through,
 * as does the owner bypass (checked by the caller): approval gates access that comes only from such
 * policies, for agents and for org members alike.
 */
function allowWaitsForApproval(rules: PolicyRule[], path: string, op: Operation): boolean {
  let gated = false;
  for (const r of rules) {
    if (r.effect !== "allow" || !coversOp(r, op) || !matchPathPattern(r.pattern, path)) continue;
    if (!(r.approvalActions.includes(op) || (op === "use" && r.approvalActions.includes("read")))) return false;
    gated = true;
  }
  return gated;
}

const denied = (op: Operation) => ApiError.forbidden(`A policy denies you ${op} access to this path in this vault.`);

/** A value-returning route refusing a principal whose policies grant `use` here but not `read`. */
export const useOnly = () =>
  ApiError.forbidden(
    "You hold `use` on this path, not `read`: Talon can use this value for you (execute_http, `talon run`) but never returns it. Ask a human for `read` if you need the value itself.",
  );

/**
 * What the approval gate does when access comes only from policies requiring approval: `enforce`
 * (take an approval or answer approval_required), `skip` (metadata only — no value is used or
 * returned), `probe` (inspection such as agent reach: refuse, saying so, with no request created).
 */
export type ApprovalMode = "enforce" | "skip" | "probe";

/**
 * The full decision for one operation on one secret path. Decided at once (returning, or throwing, with
 * no promise) when the principal's policies are cached and nothing more is asked; a promise when they
 * load, when a deny is checked for a break-glass grant, or at the approval gate.
 */
export function assertPathAccess(ctx: Ctx, vault: VaultForAccess, path: string, op: Operation, approval: ApprovalMode = "enforce"): AtOnce<void> {
  assertSameOrg(ctx, vault);
  if (isSystemVault(vault)) return assertSystemVaultPathAccess(ctx.principal, path, op, withinScopes(ctx.principal, path));
  assertBinding(ctx, vault);
  if (!withinScopes(ctx.principal, path)) {
    throw ApiError.forbidden("Your token's scopes do not cover this path. Ask a human to widen the scopes, then get a new token.");
  }
  return thenAtOnce(policiesOnVault(ctx, vault.id), (rules) => decidePath(ctx, vault, path, op, approval, rules));
}

/** assertPathAccess once the principal's rules on the vault are known. */
function decidePath(ctx: Ctx, vault: VaultForAccess, path: string, op: Operation, approval: ApprovalMode, all: Rules): AtOnce<void> {
  const rules = all.filter(applies(ctx, new Date()));
  const verdict = policyVerdict(rules, path, op);
  if (verdict === "deny") return refuseUnlessBrokenGlass(ctx, vault.id, path, op);
  if (verdict === "allow" && approval !== "skip" && !ownerBypass(ctx.principal, vault) && allowWaitsForApproval(rules, path, op)) {
    if (approval === "probe") throw ApiError.forbidden(`The policies granting ${op} here require a human's approval for each ${op} (require_approval).`);
    return passApprovalGate(ctx, vault, op, path);
  }
  if (verdict === "allow" || ownerBypass(ctx.principal, vault)) return;
  if (op === "read" && policyVerdict(rules, path, "use") === "allow") throw useOnly();
  throw noPolicy(op);
}

/** A denying policy holds unless a break-glass grant covers this path and operation now. */
async function refuseUnlessBrokenGlass(ctx: Ctx, vaultId: string, path: string, op: Operation): Promise<void> {
  if (await breakGlassActive(ctx, vaultId, path, op)) return;
  throw denied(op);
}

/**
 * For listings (paths and metadata, never values): a predicate telling which paths the caller may
 * list — those it may read or only `use` (read implies use), so a use-only agent can find the paths
 * Talon will use for it. 403 when it can do neither anywhere in the vault (bound elsewhere, or
 * neither a policy nor the owner bypass).
 */
export async function readablePathFilter(ctx: Ctx, vault: VaultForAccess): Promise<(path: string) => boolean> {
  assertSameOrg(ctx, vault);
  if (isSystemVault(vault)) return systemVaultReadablePaths(ctx.principal, (path) => withinScopes(ctx.principal, path));
  assertBinding(ctx, vault);
  const rules = (await policiesLoaded(ctx, vault.id)).filter(applies(ctx, new Date()));
  const bypass = ownerBypass(ctx.principal, vault);
  if (!bypass && !rules.some((r) => r.effect === "allow" && coversOp(r, "use"))) throw noPolicy("read");
  const p = ctx.principal;
  return (path) => {
    if (!withinScopes(p, path)) return false;
    const verdict = policyVerdict(rules, path, "use");
    return verdict === "allow" || (verdict === "none" && bypass);
  };
}

/** A vault's own details: the caller must be bound to it and hold a live allow policy on it, or bypass. */
export async function assertVaultVisible(ctx: Ctx, vault: VaultForAccess): Promise<void> {
  assertSameOrg(ctx, vault);
  if (isSystemVault(vault)) return assertSystemVaultVisible(ctx.principal);
  assertBinding(ctx, vault);
  if (ownerBypass(ctx.principal, vault)) return;
  const rules = (await policiesLoaded(ctx, vault.id)).filter(applies(ctx, new Date()));
  if (!rules.some((r) => r.effect === "allow")) {
    throw ApiError.forbidden("No policy grants you access to this vault. Ask a human to grant access with a policy (POST /v1/vaults/{id}/policies).");
  }
}

/** The vaults of a listing the caller may see, by the same rule as `assertVaultVisible`, with one query. */
export async function visibleVaults<T extends VaultForAccess>(ctx: Ctx, vaults: T[]): Promise<T[]> {
  const p = ctx.principal;
  const inOrg = vaults.filter((v) => v.orgId === p.orgId && !isSystemVault(v));
  if (p.kind === "user" && (p.role === "owner" || p.role === "admin")) return inOrg;
  const bound = p.kind === "agent" && p.vaultIds.length > 0 ? inOrg.filter((v) => p.vaultIds.includes(v.id)) : inOrg;
  if (bound.length === 0) return [];
  const withAllow = new Set((await policiesOfPrincipal(ctx)).filter(applies(ctx, new Date())).filter((r) => r.effect === "allow").map((r) => r.vaultId));
  return bound.filter((v) => isVaultCreator(p, v) || withAllow.has(v.id));
}

/**
 * Managing a vault (its policies, deleting it) is for its creator — an agent included, so an agent
 * can `grant_access` on a vault it created — and for org owners and admins.
 */
export function assertVaultManager(ctx: Ctx, vault: VaultForAccess, what: string): void {
  assertSameOrg(ctx, vault);
  if (isSystemVault(vault)) throw refuseSystemVaultManagement();
  assertBinding(ctx, vault);
  if (ownerBypass(ctx.principal, vault)) return;
  throw ApiError.forbidden(`Only the vault's creator or an org owner or admin can ${what}`);
}

const RAW_KEY_TYPES = new Set(["private_key", "ssh_key"]);

/**
 * Whether `p` may receive the value of a secret version at `path` of type `type`, by any route a value
 * leaves Talon: a read (latest or by version), a rotation's answer, a share it creates, a share it
 * receives or accepts. Two ceilings no policy lifts: the credential's scopes, and crypto-proxy agents
 * never receive raw keys (they sign through the proxy). Callers run it after the decision that let
 * them see the version's type, so it reveals nothing to someone who could not read the path anyway.
 */
export function assertMayReceiveValue(p: Principal, path: string, type: string): void {
  if (!withinScopes(p, path)) {
    throw ApiError.forbidden("Your token's scopes do not cover this path. Ask a human to widen the scopes, then get a new token.");
  }
  if (p.kind === "agent" && p.cryptoProxyEnabled && RAW_KEY_TYPES.has(type)) {
    throw ApiError.forbidden(`Agents with crypto_proxy_enabled cannot read ${type} secrets; sign through the transaction proxy instead.`);
  }
}
