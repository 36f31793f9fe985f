"use server";
import { z } from "zod";
import { type ApprovalResponse, ZApproveRequest, ZBreakGlassRequest, ZDenyRequest } from "@/lib/contract/approvals";
import { ZUuid } from "@/lib/contract/common";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { userAction } from "@/server/dashboard/context";
import { approveApproval, breakGlass, denyApproval } from "@/server/approvals/service";

export async function approveApprovalAction(input: { id: string; duration_seconds?: number; note?: string }): Promise<ActionResult<ApprovalResponse>> {
  return userAction(ZApproveRequest.extend({ id: ZUuid }), input, (ctx, { id, ...body }) => approveApproval(ctx, id, body));
}

export async function denyApprovalAction(input: { id: string; note?: string }): Promise<ActionResult<ApprovalResponse>> {
  return userAction(ZDenyRequest.extend({ id: ZUuid }), input, (ctx, { id, ...body }) => denyApproval(ctx, id, body));
}

export async function breakGlassAction(input: { vault_id: string; reason: string; duration_seconds: number }): Promise<ActionResult<ApprovalResponse>> {
  return userAction(z.strictObject({ vault_id: ZUuid }).extend(ZBreakGlassRequest.shape), input, (ctx, { vault_id, ...body }) => breakGlass(ctx, vault_id, body));
}
