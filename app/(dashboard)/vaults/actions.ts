"use server";
import { type VaultRefInput, ZVaultRefInput } from "@/components/vaults/action-schemas";
import { type CreateVaultRequest, ZCreateVaultRequest } from "@/lib/contract/vaults";
import { userAction } from "@/server/dashboard/context";
import { createVault, deleteVault } from "@/server/vaults/service";

export async function createVaultAction(input: CreateVaultRequest) {
  return userAction(ZCreateVaultRequest, input, (ctx, body) => createVault(ctx, body));
}

export async function deleteVaultAction(input: VaultRefInput) {
  return userAction(ZVaultRefInput, input, async (ctx, { vault_id }) => {
    await deleteVault(ctx, vault_id);
    return null;
  });
}
