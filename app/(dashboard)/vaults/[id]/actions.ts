"use server";
import {
  type PutSecretActionInput,
  type SecretRefInput,
  type SecretVersionRefInput,
  ZPutSecretActionInput,
  ZSecretRefInput,
  ZSecretVersionRefInput,
} from "@/components/vaults/action-schemas";
import { userAction } from "@/server/dashboard/context";
import { deleteSecret, disableSecretVersion, listSecretVersions, putSecret, readSecret } from "@/server/secrets/service";

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

export async function listSecretVersionsAction(input: SecretRefInput) {
  return userAction(ZSecretRefInput, input, (ctx, d) => listSecretVersions(ctx, { vaultId: d.vault_id, path: d.path }));
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
