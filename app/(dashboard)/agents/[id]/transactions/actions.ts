"use server";
import { z } from "zod";
import { ZUuid } from "@/lib/contract/common";
import { ZCreateSigningKeyRequest } from "@/lib/contract/transactions";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { userAction } from "@/server/dashboard/context";
import { createSigningKey, deleteSigningKey } from "@/server/intents/signing-keys";

const ZCreateKeyInput = z.strictObject({ agent_id: ZUuid, body: ZCreateSigningKeyRequest });
const ZKeyRef = z.strictObject({ agent_id: ZUuid, key_id: ZUuid });

export type CreateSigningKeyInput = z.input<typeof ZCreateKeyInput>;
export type SigningKeyRefInput = z.input<typeof ZKeyRef>;

export async function createSigningKeyAction(input: CreateSigningKeyInput) {
  return userAction(ZCreateKeyInput, input, (ctx, d) => createSigningKey(ctx, d.agent_id, d.body));
}

export async function deleteSigningKeyAction(input: SigningKeyRefInput): Promise<ActionResult<null>> {
  return userAction(ZKeyRef, input, async (ctx, d) => {
    await deleteSigningKey(ctx, d.agent_id, d.key_id);
    return null;
  });
}
