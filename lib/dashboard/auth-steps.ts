import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/browser";
import type { z } from "zod";
import type { ZForgotPasswordRequest, ZLoginRequest, ZMfaVerifyRequest, ZResetPasswordRequest, ZSignupRequest, ZVerifyEmailRequest } from "../contract/auth";
import type { ZAcceptInvitationRequest } from "../contract/org";
import type { ZPasskeySignInInput } from "../contract/passkeys";
import type { ActionResult } from "./action-result";

/** What the signed-out pages' server actions answer; the pages pass the actions to the forms. */
export type SignedIn = { signed_in: true };
export type PasswordStep = SignedIn | { signed_in: false; mfa_token: string };

export type SignInActions = {
  password: (input: z.input<typeof ZLoginRequest>) => Promise<ActionResult<PasswordStep>>;
  totp: (input: z.input<typeof ZMfaVerifyRequest>) => Promise<ActionResult<SignedIn>>;
  passkeyOptions: () => Promise<ActionResult<{ challenge_id: string; options: PublicKeyCredentialRequestOptionsJSON }>>;
  passkey: (input: z.input<typeof ZPasskeySignInInput>) => Promise<ActionResult<SignedIn>>;
};
export type SignUpAction = (input: z.input<typeof ZSignupRequest>) => Promise<ActionResult<{ email: string }>>;
/** The dashboard's confirmation always sets the password (see confirmEmailAction). */
export type ConfirmEmailAction = (input: z.input<typeof ZVerifyEmailRequest> & { password: string }) => Promise<ActionResult<{ confirmed: true }>>;
export type ForgotPasswordAction = (input: z.input<typeof ZForgotPasswordRequest>) => Promise<ActionResult<{ message: string }>>;
export type ResetPasswordAction = (input: z.input<typeof ZResetPasswordRequest>) => Promise<ActionResult<{ reset: true }>>;
export type AcceptInviteAction = (input: z.input<typeof ZAcceptInvitationRequest>) => Promise<ActionResult<SignedIn>>;
