"use server";
import { z } from "zod";
import { ZUuid } from "@/lib/contract/common";
import { ZCreateIpRuleRequest } from "@/lib/contract/security";
import { userAction } from "@/server/dashboard/context";
import { createIpRule, deleteIpRule } from "@/server/security/ip-rules";

/** `force` is the API's `?force=true`: apply the change even though it blocks the caller's own address. */
const ZCreateRule = z.strictObject({ body: ZCreateIpRuleRequest, force: z.boolean().default(false) });
const ZDeleteRule = z.strictObject({ rule_id: ZUuid, force: z.boolean().default(false) });

export async function createIpRuleAction(input: z.input<typeof ZCreateRule>) {
  return userAction(ZCreateRule, input, (ctx, d) => createIpRule(ctx, d.body, d.force));
}

export async function deleteIpRuleAction(input: z.input<typeof ZDeleteRule>) {
  return userAction(ZDeleteRule, input, async (ctx, d) => {
    await deleteIpRule(ctx, d.rule_id, d.force);
    return null;
  });
}
