"use server";
import QRCode from "qrcode";
import { z } from "zod";
import { ZChangePasswordRequest, ZCreateApiKeyRequest, ZMfaCodeRequest, ZUpdateMeRequest } from "@/lib/contract/auth";
import { ZEmail, ZUuid } from "@/lib/contract/common";
import { userAction } from "@/server/dashboard/context";
import { revokeOwnSession } from "@/server/dashboard/sessions";
import { ApiError } from "@/server/http/errors";
import { requireUser } from "@/server/http/principal";
import { createApiKey, revokeApiKey } from "@/server/identity/api-keys";
import { disableMfa, setupMfa, verifyMfaSetup } from "@/server/identity/mfa";
import { changePassword, deleteMe, getMe, updateMe } from "@/server/identity/service";

const ZNoInput = z.strictObject({});
const ZApiKeyRef = z.strictObject({ api_key_id: ZUuid });
const ZSessionRef = z.strictObject({ session_id: ZUuid });
/** The dashboard asks for the account's own email address where the API asks for a fixed phrase. */
const ZDeleteAccount = z.strictObject({ email: ZEmail });

export async function updateProfileAction(input: z.input<typeof ZUpdateMeRequest>) {
  return userAction(ZUpdateMeRequest, input, (ctx, d) => updateMe(ctx, d));
}

/** Ends every session of the user (token version bump), this one included. */
export async function changePasswordAction(input: z.input<typeof ZChangePasswordRequest>) {
  return userAction(ZChangePasswordRequest, input, async (ctx, d) => {
    await changePassword(ctx, d);
    return null;
  });
}

/**
 * Starts enrolment. The QR code is drawn here so the otpauth URI never needs a client-side library;
 * the secret goes to the browser only because the user asked to enrol, for manual entry.
 */
export async function setupMfaAction(input: z.input<typeof ZNoInput>) {
  return userAction(ZNoInput, input, async (ctx) => {
    const { otpauth_uri, secret } = await setupMfa(ctx);
    const qr_data_url = await QRCode.toDataURL(otpauth_uri, { margin: 1, width: 220, errorCorrectionLevel: "M" });
    return { secret, qr_data_url };
  });
}

export async function verifyMfaSetupAction(input: z.input<typeof ZMfaCodeRequest>) {
  return userAction(ZMfaCodeRequest, input, (ctx, d) => verifyMfaSetup(ctx, d.code));
}

export async function disableMfaAction(input: z.input<typeof ZMfaCodeRequest>) {
  return userAction(ZMfaCodeRequest, input, async (ctx, d) => {
    await disableMfa(ctx, d.code);
    return null;
  });
}

export async function createApiKeyAction(input: z.input<typeof ZCreateApiKeyRequest>) {
  return userAction(ZCreateApiKeyRequest, input, (ctx, d) => createApiKey(ctx, d));
}

export async function revokeApiKeyAction(input: z.input<typeof ZApiKeyRef>) {
  return userAction(ZApiKeyRef, input, async (ctx, d) => {
    await revokeApiKey(ctx, d.api_key_id);
    return null;
  });
}

export async function revokeSessionAction(input: z.input<typeof ZSessionRef>) {
  return userAction(ZSessionRef, input, async (ctx, d) => {
    await revokeOwnSession(ctx.rt, requireUser(ctx).principal, d.session_id);
    return null;
  });
}

export async function deleteAccountAction(input: z.input<typeof ZDeleteAccount>) {
  return userAction(ZDeleteAccount, input, async (ctx, d) => {
    const me = await getMe(ctx);
    if (me.email !== d.email) throw ApiError.badRequest("The email address does not match your account", [{ field: "email", message: "does not match your account's email address" }]);
    await deleteMe(ctx);
    return null;
  });
}
