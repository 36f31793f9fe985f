"use server";
import { type BindingRefInput, type CreateBindingInput, ZBindingRefInput, ZCreateBindingInput } from "@/components/vaults/bindings-schemas";
import { createBinding, deleteBinding } from "@/server/bindings/service";
import { userAction } from "@/server/dashboard/context";

/** The vault page's Bindings card: the same services as POST and DELETE /v1/vaults/{id}/bindings. */
export async function createBindingAction(input: CreateBindingInput) {
  return userAction(ZCreateBindingInput, input, (ctx, { vault_id, ...body }) => createBinding(ctx, vault_id, body));
}

export async function deleteBindingAction(input: BindingRefInput) {
  return userAction(ZBindingRefInput, input, async (ctx, d) => {
    await deleteBinding(ctx, d.vault_id, d.binding_id);
    return null;
  });
}
