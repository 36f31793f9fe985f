import { randomUUID } from "node:crypto";
import { type CreatePolicyRequest, normaliseApproval, parseStoredApproval, type PolicyConditions, type PolicyPermission, type PolicyResponse, type UpdatePolicyRequest } from "../../lib/contract/policies";
import { auditRow } from "../audit/writer";
import { appendAudit } from "../audit/chain";
import { ApiError } from "../http/errors";
import { type Ctx, principalRef } from "../http/principal";
import { loadVault } from "../vaults/service";
import { parseStoredConditions } from "./conditions";
import { assertVaultManager } from "./evaluate";

/**
 * Policies grant a user or agent of the org `read`/`write` on the secret paths of one vault that
 * match a glob. Managed by the vault's creator (an agent too: the card's `grant_access` tool) and by
 * org owners and admins. Every change is audited in the transaction that makes it.
 */
type PolicyRecord = {
  id: string;
  vaultId: string;
  secretPathPattern: string;
  principalType: string;
  principalId: string;
  permissions: string;
  conditions: string;
  effect: string;
  priority: number;
  policySchemaVersion: number;
  expiresAt: Date | null;
  createdBy: string;
  createdAt: Date;
  approval: string | null;
};

function toPolicyResponse(p: PolicyRecord): PolicyResponse {
  return {
    id: p.id,
    vault_id: p.vaultId,
    secret_path_pattern: p.secretPathPattern,
    principal_type: p.principalType === "agent" ? "agent" : "user",
    principal_id: p.principalId,
    permissions: JSON.parse(p.permissions) as PolicyPermission[],
    conditions: parseStoredConditions(p.conditions),
    effect: p.effect === "allow" ? "allow" : "deny",
    priority: p.priority,
    policy_schema_version: p.policySchemaVersion,
    expires_at: p.expiresAt ? p.expiresAt.toISOString() : null,
    created_by: p.createdBy,
    created_by_type: p.createdBy.startsWith("agent:") ? "agent" : "user",
    created_at: p.createdAt.toISOString(),
    ...(p.approval !== null ? { require_approval: parseStoredApproval(p.approval)! } : {}),
  };
}

/** require_approval as stored: JSON, or null when nothing waits for a human. */
function approvalJson(v: CreatePolicyRequest["require_approval"]): string | null {
  const a = normaliseApproval(v);
  return a ? JSON.stringify(a) : null;
}

/** Stored conditions carry only the keys that were given, with the time window's default time zone filled in. */
function conditionsJson(c: PolicyConditions | null | undefined): string {
  if (!c) return "{}";
  return JSON.stringify({ ...(c.ip_allowlist ? { ip_allowlist: c.ip_allowlist } : {}), ...(c.time_window ? { time_window: c.time_window } : {}) });
}

/** The principal must belong to the caller's org; anyone else's user or agent is indistinguishable from none. */
async function assertPrincipalInOrg(ctx: Ctx, type: "user" | "agent", id: string): Promise<void> {
  const where = { id, orgId: ctx.principal.orgId };
  const found =
    type === "user"
      ? await ctx.rt.db.user.findFirst({ where, select: { id: true } })
      : await ctx.rt.db.agent.findFirst({ where, select: { id: true } });
  if (!found) throw ApiError.notFound(`principal_id: no ${type} with this id in your organisation`);
}

async function loadManagedVault(ctx: Ctx, vaultId: string) {
  const vault = await loadVault(ctx, vaultId);
  assertVaultManager(ctx, vault, "manage its policies");
  return vault;
}

export async function createPolicy(ctx: Ctx, input: { vaultId: string; body: CreatePolicyRequest }): Promise<PolicyResponse> {
  const vault = await loadManagedVault(ctx, input.vaultId);
  const b = input.body;
  await assertPrincipalInOrg(ctx, b.principal_type, b.principal_id);
  const id = randomUUID();
  const created = await ctx.rt.db.$transaction(async (tx) => {
    const row = await tx.policy.create({
      data: {
        id,
        orgId: vault.orgId,
        vaultId: vault.id,
        secretPathPattern: b.secret_path_pattern,
        principalType: b.principal_type,
        principalId: b.principal_id,
        permissions: JSON.stringify(b.permissions),
        conditions: conditionsJson(b.conditions),
        effect: b.effect,
        priority: b.priority,
        policySchemaVersion: 1,
        expiresAt: b.expires_at ? new Date(b.expires_at) : null,
        createdBy: principalRef(ctx.principal),
        approval: approvalJson(b.require_approval),
      },
    });
    await appendAudit(tx, auditRow(ctx, {
      action: "policy.create",
      resourceType: "policy",
      resourceId: id,
      details: {
        vault_id: vault.id,
        principal_type: b.principal_type,
        principal_id: b.principal_id,
        secret_path_pattern: b.secret_path_pattern,
        permissions: b.permissions.join(","),
        effect: b.effect,
        ...(b.require_approval ? { require_approval: approvalJson(b.require_approval) ?? "" } : {}),
      },
    }));
    return row;
  });
  return toPolicyResponse(created);
}

export async function listPolicies(ctx: Ctx, vaultId: string): Promise<{ policies: PolicyResponse[] }> {
  const vault = await loadManagedVault(ctx, vaultId);
  const rows = await ctx.rt.db.policy.findMany({ where: { vaultId: vault.id, orgId: vault.orgId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  return { policies: rows.map(toPolicyResponse) };
}

export async function updatePolicy(ctx: Ctx, input: { vaultId: string; policyId: string; body: UpdatePolicyRequest }): Promise<PolicyResponse> {
  const vault = await loadManagedVault(ctx, input.vaultId);
  const b = input.body;
  const data = {
    ...(b.permissions ? { permissions: JSON.stringify(b.permissions) } : {}),
    ...(b.conditions !== undefined ? { conditions: conditionsJson(b.conditions) } : {}),
    ...(b.expires_at !== undefined ? { expiresAt: b.expires_at ? new Date(b.expires_at) : null } : {}),
    ...(b.effect ? { effect: b.effect } : {}),
    ...(b.priority !== undefined ? { priority: b.priority } : {}),
    ...(b.require_approval !== undefined ? { approval: approvalJson(b.require_approval) } : {}),
  };
  const updated = await ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.policy.updateMany({ where: { id: input.policyId, vaultId: vault.id, orgId: vault.orgId }, data });
    if (count !== 1) throw ApiError.notFound("Policy not found");
    await appendAudit(tx, auditRow(ctx, {
      action: "policy.update",
      resourceType: "policy",
      resourceId: input.policyId,
      details: { vault_id: vault.id, changed: Object.keys(b).sort().join(",") },
    }));
    return tx.policy.findUniqueOrThrow({ where: { id: input.policyId } });
  });
  return toPolicyResponse(updated);
}

export async function deletePolicy(ctx: Ctx, input: { vaultId: string; policyId: string }): Promise<void> {
  const vault = await loadManagedVault(ctx, input.vaultId);
  await ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.policy.deleteMany({ where: { id: input.policyId, vaultId: vault.id, orgId: vault.orgId } });
    if (count !== 1) throw ApiError.notFound("Policy not found");
    await appendAudit(tx, auditRow(ctx, { action: "policy.delete", resourceType: "policy", resourceId: input.policyId, details: { vault_id: vault.id } }));
  });
}
