"use server";
import {
  ZCmekJobInput,
  ZCmekPlanInput,
  ZCmekReadBatchInput,
  ZDisableCmekInput,
  ZEnableCmekInput,
  ZRotateCmekInput,
  type CmekJobInput,
  type CmekPlanInput,
  type CmekReadBatchInput,
  type DisableCmekInput,
  type EnableCmekInput,
  type RotateCmekInput,
} from "@/components/cmek/action-schemas";
import { type SecretRefInput, type SecretVersionRefInput, ZSecretRefInput, ZSecretVersionRefInput } from "@/components/vaults/action-schemas";
import { userAction } from "@/server/dashboard/context";
import { readSecret } from "@/server/secrets/service";
import { cmekEnablePlan, disableCmek, enableCmek, getCmekJob, startCmekRotation } from "@/server/cmek/service";

/**
 * The vault page's customer-managed-key actions: the same services as POST/DELETE /v1/vaults/{id}/cmek,
 * POST …/cmek-rotate and GET …/cmek-rotate/{job_id}. Keys for a rotation or a disable arrive in the
 * action's body (the API takes them in X-CMEK-* headers) and go only to the job's memory.
 */
export async function enableCmekAction(input: EnableCmekInput) {
  return userAction(ZEnableCmekInput, input, (ctx, d) => enableCmek(ctx, d.vault_id, { fingerprint: d.fingerprint, versions: d.versions }));
}

/** What enabling on a vault with values needs: the versions the browser reads and encrypts. */
export async function cmekPlanAction(input: CmekPlanInput) {
  return userAction(ZCmekPlanInput, input, (ctx, d) => cmekEnablePlan(ctx, d.vault_id));
}

/**
 * Values for the browser to encrypt before enabling: each one an ordinary read (`readSecret`: the same
 * access rules, expiry and read limits, one counted and audited `secret.read` per version), in order.
 */
export async function readForCmekAction(input: CmekReadBatchInput) {
  return userAction(ZCmekReadBatchInput, input, async (ctx, d) => {
    const values: { path: string; version: number; value: string }[] = [];
    for (const v of d.versions) {
      const s = await readSecret(ctx, { vaultId: d.vault_id, path: v.path, version: v.version });
      values.push({ path: v.path, version: v.version, value: s.value });
    }
    return { values };
  });
}

export async function rotateCmekAction(input: RotateCmekInput) {
  return userAction(ZRotateCmekInput, input, (ctx, d) => startCmekRotation(ctx, d.vault_id, { new_fingerprint: d.new_fingerprint }, { oldKey: d.old_key, newKey: d.new_key }));
}

export async function disableCmekAction(input: DisableCmekInput) {
  return userAction(ZDisableCmekInput, input, (ctx, d) => disableCmek(ctx, d.vault_id, { key: d.key }));
}

export async function cmekJobAction(input: CmekJobInput) {
  return userAction(ZCmekJobInput, input, (ctx, d) => getCmekJob(ctx, d.vault_id, d.job_id));
}

/** Reveal in a CMEK vault: the API's read, with whether the value is a customer-key blob (the browser decrypts it). */
export async function revealCmekSecretAction(input: SecretRefInput) {
  return userAction(ZSecretRefInput, input, async (ctx, d) => {
    const s = await readSecret(ctx, { vaultId: d.vault_id, path: d.path });
    return { value: s.value, version: s.version, access_count: s.access_count, max_access_count: s.max_access_count, cmek_encrypted: s.cmek_encrypted };
  });
}

export async function revealCmekSecretVersionAction(input: SecretVersionRefInput) {
  return userAction(ZSecretVersionRefInput, input, async (ctx, d) => {
    const s = await readSecret(ctx, { vaultId: d.vault_id, path: d.path, version: d.version });
    return { value: s.value, version: s.version, access_count: s.access_count, max_access_count: s.max_access_count, cmek_encrypted: s.cmek_encrypted };
  });
}
