"use server";
import { z } from "zod";
import { type ApprovalResponse, ZApproveRequest, ZBreakGlassRequest, ZDenyRequest } from "@/lib/contract/approvals";
import { ZUuid } from "@/lib/contract/common";
import { ZPasskeySignInInput } from "@/lib/contract/passkeys";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { userAction } from "@/server/dashboard/context";
import { approveApproval, breakGlass, denyApproval } from "@/server/approvals/service";
import { passkeyStepUpOptions } from "@/server/identity/passkeys";

export async function approveApprovalAction(input: {
  id: string;
  duration_seconds?: number;
  note?: string;
  passkey?: z.input<typeof ZPasskeySignInInput>;
}): Promise<ActionResult<ApprovalResponse>> {
  return userAction(ZApproveRequest.extend({ id: ZUuid, passkey: ZPasskeySignInInput.optional() }), input, (ctx, { id, passkey, ...body }) => approveApproval(ctx, id, body, passkey));
}

/** The approver's passkey challenge for approving (null when they have no passkey: none is asked). */
export async function approvalStepUpOptionsAction(): Promise<ActionResult<Awaited<ReturnType<typeof passkeyStepUpOptions>>>> {
  return userAction(z.undefined(), undefined, (ctx) => passkeyStepUpOptions(ctx));
}

export async function denyApprovalAction(input: { id: string; note?: string }): Promise<ActionResult<ApprovalResponse>> {
  return userAction(ZDenyRequest.extend({ id: ZUuid }), input, (ctx, { id, ...body }) => denyApproval(ctx, id, body));
}

export async function breakGlassAction(input: { vault_id: string; reason: string; duration_seconds: number }): Promise<ActionResult<ApprovalResponse>> {
  return userAction(z.strictObject({ vault_id: ZUuid }).extend(ZBreakGlassRequest.shape), input, (ctx, { vault_id, ...body }) => breakGlass(ctx, vault_id, body));
}
