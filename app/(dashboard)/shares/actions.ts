"use server";
import { z } from "zod";
import { ZUuid } from "@/lib/contract/common";
import type { SharedSecret } from "@/lib/contract/shares";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { userAction } from "@/server/dashboard/context";
import { accessShare } from "@/server/shares/access";
import { answerShare, revokeShare } from "@/server/shares/service";

export async function revokeShareAction(input: { id: string }): Promise<ActionResult<void>> {
  return userAction(z.strictObject({ id: ZUuid }), input, (ctx, d) => revokeShare(ctx, d.id));
}

export async function answerShareAction(input: { id: string; answer: "accept" | "decline" }): Promise<ActionResult<void>> {
  return userAction(z.strictObject({ id: ZUuid, answer: z.enum(["accept", "decline"]) }), input, (ctx, d) => answerShare(ctx, d));
}

/**
 * Reads an accepted inbound share through the same path as `GET /v1/share/{id}` (counts one read,
 * writes `share.access`). The passphrase travels in the action's POST body, as the API's header does.
 */
export async function revealShareAction(input: { id: string; passphrase?: string }): Promise<ActionResult<SharedSecret>> {
  return userAction(z.strictObject({ id: ZUuid, passphrase: z.string().max(256).optional() }), input, (ctx, d) =>
    accessShare(ctx, { id: d.id, principal: ctx.principal, ...(d.passphrase ? { passphrase: d.passphrase } : {}) }),
  );
}
