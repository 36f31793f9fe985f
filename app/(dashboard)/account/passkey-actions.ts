"use server";
import { z } from "zod";
import { ZRegisterPasskeyInput } from "@/lib/contract/passkeys";
import { userAction } from "@/server/dashboard/context";
import { deletePasskey, passkeyRegistrationOptions, registerPasskey } from "@/server/identity/passkeys";

export async function passkeyRegistrationOptionsAction() {
  return userAction(z.undefined(), undefined, (ctx) => passkeyRegistrationOptions(ctx));
}

export async function registerPasskeyAction(input: z.input<typeof ZRegisterPasskeyInput>) {
  return userAction(ZRegisterPasskeyInput, input, (ctx, data) => registerPasskey(ctx, data));
}

export async function deletePasskeyAction(input: { id: string }) {
  return userAction(z.strictObject({ id: z.uuid() }), input, async (ctx, data) => {
    await deletePasskey(ctx, data.id);
    return { deleted: true as const };
  });
}

