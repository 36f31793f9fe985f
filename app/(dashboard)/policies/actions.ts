"use server";
import { z } from "zod";
import { ZUuid } from "@/lib/contract/common";
import { ZCreatePolicyRequest, ZUpdatePolicyRequest } from "@/lib/contract/policies";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { createPolicy, deletePolicy, updatePolicy } from "@/server/access/policies";
import { userAction } from "@/server/dashboard/context";

const ZGrantAccessInput = z.strictObject({ vault_id: ZUuid, body: ZCreatePolicyRequest });
const ZUpdatePolicyInput = z.strictObject({ vault_id: ZUuid, policy_id: ZUuid, body: ZUpdatePolicyRequest });
const ZPolicyRef = z.strictObject({ vault_id: ZUuid, policy_id: ZUuid });

export async function grantAccessAction(input: z.input<typeof ZGrantAccessInput>) {
  return userAction(ZGrantAccessInput, input, (ctx, d) => createPolicy(ctx, { vaultId: d.vault_id, body: d.body }));
}

export async function updatePolicyAction(input: z.input<typeof ZUpdatePolicyInput>) {
  return userAction(ZUpdatePolicyInput, input, (ctx, d) => updatePolicy(ctx, { vaultId: d.vault_id, policyId: d.policy_id, body: d.body }));
}

export async function revokePolicyAction(input: z.input<typeof ZPolicyRef>): Promise<ActionResult<null>> {
  return userAction(ZPolicyRef, input, async (ctx, d) => {
    await deletePolicy(ctx, { vaultId: d.vault_id, policyId: d.policy_id });
    return null;
  });
}
