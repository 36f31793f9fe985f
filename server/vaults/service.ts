import { randomUUID } from "node:crypto";
import type { CreateVaultRequest, VaultResponse } from "../../lib/contract/vaults";
import { auditRow } from "../audit/writer";
import { assertResourceLimit } from "../billing/limits";
import { appendAudit } from "../audit/chain";
import { ApiError } from "../http/errors";
import { type Ctx, principalId } from "../http/principal";
import { assertVaultNameFree, isSystemVault, SYSTEM_CREATOR, SYSTEM_VAULT_NAME } from "../access/system-vault";
import { assertCanDeleteVault, assertCanReadVault, filterVisibleVaults } from "../secrets/access";
import { isUniqueViolation, type OrgVaultRow } from "../secrets/repo";

/** A vault row as the services use it (one shape with the write path's driver read, ../secrets/repo). */
export type VaultRecord = OrgVaultRow;

export function toVaultResponse(v: Omit<VaultRecord, "wrappedKey" | "masterKeyVersion" | "orgId">): VaultResponse {
  return {
    id: v.id,
    name: v.name,
    description: v.description,
    created_by: v.createdBy,
    created_by_type: isSystemVault(v) ? "system" : v.createdByType === "agent" ? "agent" : "user",
    created_at: v.createdAt.toISOString(),
    cmek_enabled: v.cmekEnabled,
    cmek_fingerprint: v.cmekFingerprint,
    cmek_job_id: v.cmekRotationJobId,
  };
}

const duplicateName = (name: string) => ApiError.conflict(`A vault named "${name}" already exists in this organisation`);

/** The caller's org's vault, or 404 — another org's vault is indistinguishable from none. */
export async function loadVault(ctx: Ctx, id: string): Promise<VaultRecord> {
  const vault = await ctx.rt.db.vault.findFirst({ where: { id, orgId: ctx.principal.orgId } });
  if (!vault) throw ApiError.notFound("Vault not found");
  return vault;
}

export async function createVault(ctx: Ctx, input: CreateVaultRequest): Promise<VaultResponse> {
  const { orgId } = ctx.principal;
  const userId = principalId(ctx.principal);
  const name = input.name;
  assertVaultNameFree(name);
  // Cheap pre-check so a duplicate name costs no HSM call; the unique index still decides races.
  const existing = await ctx.rt.db.vault.findUnique({ where: { orgId_name: { orgId, name } }, select: { id: true } });
  if (existing) throw duplicateName(name);

  const id = randomUUID();
  // The HSM wraps the new data key before the transaction: no HSM call ever runs inside one.
  const { wrappedKey, masterKeyVersion } = await ctx.rt.vaultKeys.newVaultKey(id);
  try {
    const vault = await ctx.rt.db.$transaction(async (tx) => {
      await assertResourceLimit(tx, ctx, "vault", { vaultName: name });
      const v = await tx.vault.create({
        data: {
          id,
          orgId,
          name,
          description: input.description ?? "",
          createdBy: userId,
          createdByType: ctx.principal.kind,
          wrappedKey: new Uint8Array(wrappedKey),
          masterKeyVersion,
        },
      });
      await appendAudit(tx, auditRow(ctx, { action: "vault.create", resourceType: "vault", resourceId: id, details: { name } }));
      return v;
    });
    return toVaultResponse(vault);
  } catch (e) {
    ctx.rt.vaultKeys.forget(id);
    if (isUniqueViolation(e)) throw duplicateName(name);
    throw e;
  }
}

/** Every vault of the org the caller may see; Talon's system vault is never listed, to anyone. */
export async function listVaults(ctx: Ctx): Promise<{ vaults: VaultResponse[] }> {
  const vaults = await ctx.rt.db.vault.findMany({
    where: { orgId: ctx.principal.orgId, isSystem: false },
    omit: { wrappedKey: true },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  return { vaults: (await filterVisibleVaults(ctx, vaults)).map(toVaultResponse) };
}

export async function getVault(ctx: Ctx, id: string): Promise<VaultResponse> {
  const vault = await loadVault(ctx, id);
  await assertCanReadVault(ctx, vault);
  return toVaultResponse(vault);
}

/** Deletes the vault with its secrets (FK cascade); its wrapped data key goes with the row. */
export async function deleteVault(ctx: Ctx, id: string): Promise<void> {
  const vault = await loadVault(ctx, id);
  await assertCanDeleteVault(ctx, vault);
  await ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.vault.deleteMany({ where: { id, orgId: vault.orgId } });
    if (count === 0) throw ApiError.notFound("Vault not found");
    await appendAudit(tx, auditRow(ctx, { action: "vault.delete", resourceType: "vault", resourceId: id, details: { name: vault.name } }));
  });
  ctx.rt.vaultKeys.forget(id);
}

/**
 * The org's system vault (`__agent-keys`), created on first need by Talon itself rather than by the
 * caller: it has no creator, so nobody gets a creator bypass on it, and it counts against no plan
 * limit. Concurrent first registrations race on the unique name; the loser uses the winner's vault.
 */
export async function systemVault(ctx: Ctx): Promise<VaultRecord> {
  const { orgId } = ctx.principal;
  const where = { orgId_name: { orgId, name: SYSTEM_VAULT_NAME } };
  const existing = await ctx.rt.db.vault.findUnique({ where });
  if (existing) return assertSystem(existing);

  const id = randomUUID();
  const { wrappedKey, masterKeyVersion } = await ctx.rt.vaultKeys.newVaultKey(id);
  try {
    await ctx.rt.db.$transaction(async (tx) => {
      await tx.vault.create({
        data: {
          id,
          orgId,
          name: SYSTEM_VAULT_NAME,
          description: "Agents' SSH private keys (managed by Talon)",
          createdBy: SYSTEM_CREATOR,
          createdByType: SYSTEM_CREATOR,
          isSystem: true,
          wrappedKey: new Uint8Array(wrappedKey),
          masterKeyVersion,
        },
      });
      await appendAudit(tx, auditRow(ctx, { action: "vault.create", resourceType: "vault", resourceId: id, details: { name: SYSTEM_VAULT_NAME, system: true } }));
    });
  } catch (e) {
    ctx.rt.vaultKeys.forget(id);
    if (!isUniqueViolation(e)) throw e;
  }
  return assertSystem(await ctx.rt.db.vault.findUniqueOrThrow({ where }));
}

/** A reserved name held by an ordinary vault would hand its creator every agent's key: never store one there. */
function assertSystem(v: VaultRecord): VaultRecord {
  if (!isSystemVault(v)) throw new Error("the system vault's name is held by an ordinary vault");
  return v;
}
