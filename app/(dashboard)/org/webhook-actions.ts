"use server";
import { z } from "zod";
import { ZUuid } from "@/lib/contract/common";
import { ZCreateWebhookRequest } from "@/lib/contract/webhooks";
import { userAction } from "@/server/dashboard/context";
import { createWebhook, deleteWebhook, testWebhook } from "@/server/webhooks/service";

const ZWebhookRef = z.strictObject({ webhook_id: ZUuid });

export async function createWebhookAction(input: z.input<typeof ZCreateWebhookRequest>) {
  return userAction(ZCreateWebhookRequest, input, (ctx, d) => createWebhook(ctx, d));
}

export async function deleteWebhookAction(input: z.input<typeof ZWebhookRef>) {
  return userAction(ZWebhookRef, input, async (ctx, d) => {
    await deleteWebhook(ctx, d.webhook_id);
    return null;
  });
}

export async function testWebhookAction(input: z.input<typeof ZWebhookRef>) {
  return userAction(ZWebhookRef, input, (ctx, d) => testWebhook(ctx, d.webhook_id));
}
