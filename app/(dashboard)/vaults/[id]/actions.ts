"use server";
import {
  type PutSecretActionInput,
  type SecretRefInput,
  type SecretVersionRefInput,
  ZPutSecretActionInput,
  ZSecretRefInput,
  ZSecretVersionRefInput,
} from "@/components/vaults/action-schemas";
import { z } from "zod";
import { ZUuid } from "@/lib/contract/common";
import { ZCreateShareRequest } from "@/lib/contract/shares";
import { userAction } from "@/server/dashboard/context";
import { createShare } from "@/server/shares/service";
import { principalNames } from "@/server/org/principal-names";
import { deleteSecret, disableSecretVersion, listSecretVersions, putSecret, readSecret, restoreSecretVersion } from "@/server/secrets/service";
import { type ExportSecretsRequest, type ImportSecretsRequest, ZExportSecretsRequest, ZImportSecretsRequest } from "@/lib/contract/secret-transfer";
import { restoreDeletedSecret } from "@/server/secrets/deleted";
import { exportSecrets, importSecrets } from "@/server/secrets/transfer";

export async function putSecretAction(input: PutSecretActionInput) {
  return userAction(ZPutSecretActionInput, input, (ctx, d) => putSecret(ctx, { vaultId: d.vault_id, path: d.path, body: d.body }));
}

/**
 * The dashboard's Reveal: the API's own read (access decision, expiry and read-count checks, the
 * counted read, the awaited `secret.read` audit event). The value leaves the server only in this
 * action's response to the click.
 */
export async function revealSecretAction(input: SecretRefInput) {
  return userAction(ZSecretRefInput, input, async (ctx, d) => {
    const s = await readSecret(ctx, { vaultId: d.vault_id, path: d.path });
    return { value: s.value, version: s.version, access_count: s.access_count, max_access_count: s.max_access_count };
  });
}

/** An old version's value for View/Copy/Compare: the API's version read (access rules, limits, one audited read). */
export async function revealSecretVersionAction(input: SecretVersionRefInput) {
  return userAction(ZSecretVersionRefInput, input, async (ctx, d) => {
    const s = await readSecret(ctx, { vaultId: d.vault_id, path: d.path, version: d.version });
    return { value: s.value, version: s.version, access_count: s.access_count, max_access_count: s.max_access_count };
  });
}

/** Versions (metadata only), each author named (a member's email, an agent's name) where the org knows them. */
export async function listSecretVersionsAction(input: SecretRefInput) {
  return userAction(ZSecretRefInput, input, async (ctx, d) => {
    const { versions } = await listSecretVersions(ctx, { vaultId: d.vault_id, path: d.path });
    const names = await principalNames(ctx, versions.map((v) => v.created_by));
    return { versions: versions.map((v) => ({ ...v, created_by_name: names.get(v.created_by) ?? null })) };
  });
}

export async function restoreSecretVersionAction(input: SecretVersionRefInput) {
  return userAction(ZSecretVersionRefInput, input, (ctx, d) => restoreSecretVersion(ctx, { vaultId: d.vault_id, path: d.path, version: d.version }));
}

export async function disableSecretVersionAction(input: SecretVersionRefInput) {
  return userAction(ZSecretVersionRefInput, input, async (ctx, d) => {
    await disableSecretVersion(ctx, { vaultId: d.vault_id, path: d.path, version: d.version });
    return null;
  });
}

export async function deleteSecretAction(input: SecretRefInput) {
  return userAction(ZSecretRefInput, input, async (ctx, d) => {
    await deleteSecret(ctx, { vaultId: d.vault_id, path: d.path });
    return null;
  });
}

/** The vault page's Share: the API's `POST /v1/secrets/{id}/share`, every rule included. */
export async function createShareAction(input: { secret_id: string; body: z.input<typeof ZCreateShareRequest> }) {
  return userAction(z.strictObject({ secret_id: ZUuid, body: ZCreateShareRequest }), input, (ctx, d) => createShare(ctx, { secretId: d.secret_id, body: d.body }));
}

/** Import from a .env: one new version per variable, every path's write access checked before the first write. */
export async function importSecretsAction(input: ImportSecretsRequest) {
  return userAction(ZImportSecretsRequest, input, (ctx, d) => importSecrets(ctx, d));
}

/** Export a folder: one audited read per secret; the values leave only in this action's answer. */
export async function exportSecretsAction(input: ExportSecretsRequest) {
  return userAction(ZExportSecretsRequest, input, (ctx, d) => exportSecrets(ctx, d));
}

export async function restoreDeletedSecretAction(input: SecretRefInput) {
  return userAction(ZSecretRefInput, input, (ctx, d) => restoreDeletedSecret(ctx, { vaultId: d.vault_id, path: d.path }));
}
