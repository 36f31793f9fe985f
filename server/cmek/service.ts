import type { CmekEnablePlan, CmekJobResponse, CmekRotateRequest, EnableCmekRequest } from "../../lib/contract/cmek";
import { CmekError, decodeCmekKey, importCmekKey, type CmekKey } from "../../lib/crypto/cmek";
import type { VaultResponse } from "../../lib/contract/vaults";
import { assertVaultManager } from "../access/evaluate";
import { appendAudit } from "../audit/chain";
import { auditRow } from "../audit/writer";
import { billingUrl, planOf } from "../billing/tiers";
import { ApiError } from "../http/errors";
import { type Ctx, requireUser } from "../http/principal";
import { assertCanReadVault } from "../secrets/access";
import { assertBlobsFor, planFor, swapInBlobs } from "./existing";
import { startCmekJob, toJobResponse } from "./job";
import { loadVault, toVaultResponse, type VaultRecord } from "../vaults/service";

/**
 * Customer-managed keys on a vault (docs/cmek.md). The server stores only the key's SHA-256
 * fingerprint; values arrive already encrypted by the client. Managing CMEK is a human's job on a
 * vault they manage (its creator, an org owner or admin); turning it on needs the Business plan or
 * above when billing is on. Turning it off is always allowed, so a downgraded org can get out.
 */
async function managedVault(ctx: Ctx, vaultId: string, what: string): Promise<VaultRecord> {
  requireUser(ctx);
  const vault = await loadVault(ctx, vaultId);
  assertVaultManager(ctx, vault, what);
  return vault;
}

async function assertCmekPlan(ctx: Ctx): Promise<void> {
  if (ctx.rt.config.billing === "off") return;
  const org = await ctx.rt.db.org.findUnique({ where: { id: ctx.principal.orgId }, select: { tier: true } });
  const { name } = planOf("on", org?.tier ?? "free");
  if (name !== "business" && name !== "enterprise") {
    throw ApiError.forbidden(`Customer-managed keys need the Business plan or above (this organisation is on ${name}). Upgrade at ${billingUrl(ctx.rt.config.publicUrl)}.`);
  }
}

/**
 * Turns CMEK on. Only the fingerprint reaches the server. A vault that already holds values needs them
 * all re-encrypted by the client, sent as `versions` (existing.ts): without them it is a 409, since the
 * server never sees the key. The vault row is updated first (on PostgreSQL a concurrent write holds it
 * share-locked and commits first), then the versions decide, in one transaction: all or nothing.
 */
export async function enableCmek(ctx: Ctx, vaultId: string, input: EnableCmekRequest): Promise<VaultResponse> {
  const vault = await managedVault(ctx, vaultId, "manage its customer-managed key");
  await assertCmekPlan(ctx);
  if (vault.cmekEnabled) throw ApiError.conflict("CMEK is already enabled on this vault; to change the key, rotate it (POST /v1/vaults/{id}/cmek-rotate)");
  const versions = input.versions ?? [];
  assertBlobsFor(input.fingerprint, versions);
  // Fetched before the transaction (it may cost an HSM call); only needed when there is something to seal or erase.
  const vaultKey = (await ctx.rt.db.secretVersion.count({ where: { secret: { vaultId: vault.id } } })) > 0 ? await ctx.rt.vaultKeys.vaultKey(vault) : null;
  try {
    const updated = await ctx.rt.db.$transaction(async (tx) => {
      const { count } = await tx.vault.updateMany({
        where: { id: vault.id, orgId: vault.orgId, cmekEnabled: false, cmekRotationJobId: null },
        data: { cmekEnabled: true, cmekFingerprint: input.fingerprint },
      });
      if (count !== 1) throw ApiError.conflict("CMEK is already enabled on this vault, or a customer-key job is running on it");
      const stored = await tx.secretVersion.count({ where: { secret: { vaultId: vault.id } } });
      if (stored > 0 && versions.length === 0) {
        throw ApiError.conflict(
          `This vault already holds ${stored} secret version${stored === 1 ? "" : "s"} (history and deleted secrets included) stored without a customer key. ` +
            "The server never sees your key, so it cannot encrypt them: send each readable version encrypted under the key in `versions` (the dashboard's Use my own key does this in your browser), or enable CMEK on a new, empty vault.",
        );
      }
      if (stored > 0 && !vaultKey) throw ApiError.conflict("Secrets were stored while CMEK was being enabled; nothing was changed, try again");
      const swapped = stored > 0 ? await swapInBlobs(tx, vault.id, input.fingerprint, vaultKey!, versions) : null;
      if (!swapped && versions.length > 0) throw ApiError.conflict(`The vault holds no versions, but ${versions.length} were sent; nothing was changed`);
      await appendAudit(tx, auditRow(ctx, {
        action: "cmek.enable",
        resourceType: "vault",
        resourceId: vault.id,
        details: { fingerprint: input.fingerprint, ...(swapped && { versions_encrypted: swapped.encrypted, versions_erased: swapped.erased }) },
      }));
      return tx.vault.findUniqueOrThrow({ where: { id: vault.id }, omit: { wrappedKey: true } });
    });
    return toVaultResponse(updated);
  } finally {
    vaultKey?.fill(0);
  }
}

/** Dashboard: what turning CMEK on here needs the browser to read and encrypt (docs/cmek.md). */
export async function cmekEnablePlan(ctx: Ctx, vaultId: string): Promise<CmekEnablePlan> {
  const vault = await managedVault(ctx, vaultId, "manage its customer-managed key");
  return planFor(ctx.rt.db, vault.id);
}

/** A key from a header, checked against the fingerprint it must have; the 400 names the header, never its value. */
async function keyFromHeader(header: string, value: string, fingerprint: string, against: string): Promise<CmekKey> {
  let key: CmekKey;
  try {
    key = await importCmekKey(decodeCmekKey(value, header));
  } catch (e) {
    const message = e instanceof CmekError ? e.message.replace(`${header} `, "") : "could not be read";
    throw ApiError.badRequest(`${header} ${message}`, [{ field: header, message }]);
  }
  if (key.fingerprint !== fingerprint) {
    const message = `does not match ${against}`;
    throw ApiError.badRequest(`${header} ${message}`, [{ field: header, message }]);
  }
  return key;
}

/** Versions under a key that is neither of this job's (a failed rotation to a third key) would be stranded. */
async function assertNoStrayKeys(ctx: Ctx, vaultId: string, allowed: string[]): Promise<void> {
  const stray = await ctx.rt.db.secretVersion.findFirst({
    where: { secret: { vaultId }, cmekFingerprint: { notIn: allowed }, NOT: { cmekFingerprint: null } },
    select: { cmekFingerprint: true },
  });
  if (stray) {
    throw ApiError.conflict(`Some versions in this vault are still under customer key ${stray.cmekFingerprint} from an unfinished rotation; finish that rotation first, with the same keys`);
  }
}

export async function startCmekRotation(ctx: Ctx, vaultId: string, input: CmekRotateRequest, headers: { oldKey: string; newKey: string }): Promise<CmekJobResponse> {
  const vault = await managedVault(ctx, vaultId, "manage its customer-managed key");
  await assertCmekPlan(ctx);
  if (!vault.cmekEnabled || !vault.cmekFingerprint) throw ApiError.conflict("CMEK is not enabled on this vault; enable it first (POST /v1/vaults/{id}/cmek)");
  if (input.new_fingerprint === vault.cmekFingerprint) {
    throw ApiError.badRequest("new_fingerprint is the vault's current key", [{ field: "new_fingerprint", message: "must differ from the vault's current fingerprint" }]);
  }
  const old = await keyFromHeader("X-CMEK-Old-Key", headers.oldKey, vault.cmekFingerprint, "the vault's fingerprint");
  const next = await keyFromHeader("X-CMEK-New-Key", headers.newKey, input.new_fingerprint, "new_fingerprint");
  await assertNoStrayKeys(ctx, vault.id, [old.fingerprint, next.fingerprint]);
  return startCmekJob(ctx, vault, { old, next }, { action: "cmek.rotate" });
}

/** Turns CMEK off: a job opens every version with the key and stores it back as a plain value. */
export async function disableCmek(ctx: Ctx, vaultId: string, headers: { key: string }): Promise<CmekJobResponse> {
  const vault = await managedVault(ctx, vaultId, "manage its customer-managed key");
  if (!vault.cmekEnabled || !vault.cmekFingerprint) throw ApiError.conflict("CMEK is not enabled on this vault");
  const old = await keyFromHeader("X-CMEK-Key", headers.key, vault.cmekFingerprint, "the vault's fingerprint");
  await assertNoStrayKeys(ctx, vault.id, [old.fingerprint]);
  return startCmekJob(ctx, vault, { old, next: null }, { action: "cmek.disable" });
}

export async function getCmekJob(ctx: Ctx, vaultId: string, jobId: string): Promise<CmekJobResponse> {
  const vault = await loadVault(ctx, vaultId);
  await assertCanReadVault(ctx, vault);
  const job = await ctx.rt.db.cmekRotationJob.findFirst({ where: { id: jobId, vaultId: vault.id, orgId: vault.orgId } });
  if (!job) throw ApiError.notFound("Customer-key job not found");
  return toJobResponse(job);
}
