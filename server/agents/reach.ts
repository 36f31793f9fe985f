import { type AgentAccessVerdict, type AgentReach, AGENT_REACH_PATHS_MAX, type AgentReachPolicy } from "../../lib/contract/agent-reach";
import { POLICY_PERMISSIONS, type PolicyConditions, type PolicyPermission } from "../../lib/contract/policies";
import { assertMayReceiveValue, assertPathAccess, readablePathFilter, useOnly as useOnlyRefusal } from "../access/evaluate";
import { parseStoredConditions } from "../access/conditions";
import { ApiError } from "../http/errors";
import type { AgentPrincipal, Ctx } from "../http/principal";
import { listLatestVersions } from "../secrets/repo";
import { loadVault } from "../vaults/service";
import { parseList } from "./records";

/**
 * "What can it reach?": the agent's policies across the org's vaults, and the paths it can read or use now,
 * decided by `server/access/evaluate.ts` itself with the agent as the principal — the same binding,
 * scope ceiling, live policies (expiry, conditions), deny-over-allow and crypto-proxy rules that its
 * requests meet. Conditions are evaluated as of now from no particular address, so a policy limited
 * to an IP allow list does not count here (the page says so). Owners and admins only: it names paths
 * in vaults a member may not see.
 */
function assertMayInspect(ctx: Ctx) {
  const p = ctx.principal;
  if (p.kind !== "user" || (p.role !== "owner" && p.role !== "admin")) throw ApiError.forbidden("Only organisation owners and admins can see what an agent can reach");
}

async function agentCtx(ctx: Ctx, agentId: string): Promise<{ actx: Ctx; active: boolean }> {
  const agent = await ctx.rt.db.agent.findFirst({ where: { id: agentId, orgId: ctx.principal.orgId } });
  if (!agent) throw ApiError.notFound("Agent not found");
  const principal: AgentPrincipal = {
    kind: "agent",
    agentId: agent.id,
    orgId: agent.orgId,
    createdBy: agent.createdBy,
    via: "api_key",
    credentialId: agent.id,
    // As its requests carry them: only explicit scopes are a ceiling.
    scopes: parseList(agent.scopes),
    vaultIds: parseList(agent.vaultIds),
    cryptoProxyEnabled: agent.cryptoProxyEnabled,
  };
  const active = agent.isActive && (agent.expiresAt === null || agent.expiresAt.getTime() > Date.now());
  return { actx: { rt: ctx.rt, principal, requestId: ctx.requestId, ip: "" }, active };
}

const USE_ONLY_DETAIL = useOnlyRefusal().detail;

const reason = (e: unknown) => {
  if (e instanceof ApiError && (e.status === 403 || e.status === 404)) return e.detail;
  throw e;
};

export async function agentReach(ctx: Ctx, agentId: string): Promise<AgentReach> {
  assertMayInspect(ctx);
  const { actx, active } = await agentCtx(ctx, agentId);
  const [policyRows, vaultRows] = await Promise.all([
    ctx.rt.db.policy.findMany({ where: { orgId: ctx.principal.orgId, principalType: "agent", principalId: agentId }, orderBy: { createdAt: "asc" } }),
    ctx.rt.db.vault.findMany({ where: { orgId: ctx.principal.orgId }, orderBy: { name: "asc" } }),
  ]);
  const vaultName = new Map(vaultRows.map((v) => [v.id, v.name]));
  const now = Date.now();
  const policies: AgentReachPolicy[] = policyRows.map((p) => {
    const perms = JSON.parse(p.permissions) as unknown;
    return {
      id: p.id,
      vault_id: p.vaultId,
      vault_name: vaultName.get(p.vaultId) ?? p.vaultId,
      secret_path_pattern: p.secretPathPattern,
      permissions: Array.isArray(perms) ? perms.filter((x): x is PolicyPermission => (POLICY_PERMISSIONS as readonly unknown[]).includes(x)) : [],
      effect: p.effect === "allow" ? "allow" : "deny",
      conditions: parseStoredConditions(p.conditions) as PolicyConditions,
      expires_at: p.expiresAt?.toISOString() ?? null,
      live: p.expiresAt === null || p.expiresAt.getTime() > now,
    };
  });
  if (!active) return { active, policies, vaults: [] };

  const vaults: AgentReach["vaults"] = [];
  for (const vault of vaultRows) {
    let readable: (path: string) => boolean;
    try {
      readable = await readablePathFilter(actx, vault);
    } catch (e) {
      // Vaults it has no business with are left out; those it is bound to or holds a policy on say why.
      const related = actx.principal.kind === "agent" && (actx.principal.vaultIds.includes(vault.id) || policies.some((p) => p.vault_id === vault.id));
      if (related) vaults.push({ vault_id: vault.id, vault_name: vault.name, paths: [], more: 0, refused: reason(e) });
      else reason(e);
      continue;
    }
    const rows = (await listLatestVersions(ctx.rt.db, vault.id, "")).filter((r) => readable(r.path));
    if (rows.length === 0 && !policies.some((p) => p.vault_id === vault.id)) continue;
    const paths = [];
    for (const r of rows.slice(0, AGENT_REACH_PATHS_MAX)) {
      // Listed for `use` alone or for `read`: the read decision's own refusal tells which (policies are
      // memoised per ctx); a read waiting for approval is still a read, not use only.
      let useOnly = false;
      try {
        await assertPathAccess(actx, vault, r.path, "read", "probe");
      } catch (e) {
        useOnly = reason(e) === USE_ONLY_DETAIL;
      }
      let refused = false;
      try {
        assertMayReceiveValue(actx.principal, r.path, r.type);
      } catch (e) {
        reason(e);
        refused = true;
      }
      paths.push({ path: r.path, type: r.type, use_only: useOnly, value_refused: refused });
    }
    vaults.push({ vault_id: vault.id, vault_name: vault.name, paths, more: Math.max(0, rows.length - AGENT_REACH_PATHS_MAX), refused: null });
  }
  return { active, policies, vaults };
}

/** "Test access": the enforcing decision for read, use and write on one path of one vault, with the refusal the agent would get. */
export async function testAgentAccess(ctx: Ctx, input: { agentId: string; vaultId: string; path: string }): Promise<AgentAccessVerdict> {
  assertMayInspect(ctx);
  const { actx, active } = await agentCtx(ctx, input.agentId);
  const vault = await loadVault(ctx, input.vaultId);
  const decide = async (op: PolicyPermission) => {
    if (!active) return { allowed: false, reason: "The agent is deactivated or expired: every request it makes is refused." };
    try {
      await assertPathAccess(actx, vault, input.path, op, "probe");
      return { allowed: true, reason: null };
    } catch (e) {
      return { allowed: false, reason: reason(e) };
    }
  };
  return { read: await decide("read"), use: await decide("use"), write: await decide("write") };
}
