"use server";
import { z } from "zod";
import { ZUuid } from "@/lib/contract/common";
import type { SharedSecret } from "@/lib/contract/shares";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { actionFailure, invalidInput, publicCtx } from "@/server/dashboard/context";
import { checkAuthStepRate } from "@/server/http/rate-limit";
import { accessShare } from "@/server/shares/access";

const ZRevealShareLink = z.strictObject({ id: ZUuid, passphrase: z.string().max(256).optional(), token: z.string().max(128).optional() });

/**
 * The share page's Reveal: a POST (server action) into the same read as `GET /v1/share/{id}` for an
 * anonymous holder of the link — passphrase and its guess limit, the sharer re-check, the pinned or
 * latest version, one counted read, the `share.access` event — under the per-IP budget share links
 * take on the API.
 */
export async function revealShareLinkAction(input: { id: string; passphrase?: string; token?: string }): Promise<ActionResult<SharedSecret>> {
  const parsed = ZRevealShareLink.safeParse(input);
  if (!parsed.success) return invalidInput(parsed.error.issues);
  const ctx = await publicCtx();
  try {
    await checkAuthStepRate(ctx.rt, ctx.ip);
    const { id, passphrase, token } = parsed.data;
    return { ok: true, data: await accessShare(ctx, { id, ...(passphrase ? { passphrase } : {}), ...(token ? { token } : {}) }) };
  } catch (e) {
    return actionFailure(e, ctx.requestId);
  }
}
