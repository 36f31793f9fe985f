import { z } from "@hono/zod-openapi";
import { PATH_PATTERN_MAX, pathPatternProblem } from "../path-glob";
import { ZEmail, ZIsoDate, ZUuid } from "./common";
import { ZDisplayName } from "./names";


/** Login checks only bounds; the 12-character minimum applies where a password is chosen. */
const ZPassword = z.string().min(1).max(256).openapi({ format: "password" });
const ZNewPassword = z.string().min(12, { message: "must be at least 12 characters" }).max(256).openapi({ format: "password" });

export const ZSignupRequest = z
  .strictObject({
    email: ZEmail,
    password: ZNewPassword,
    display_name: ZDisplayName.optional(),
  })
  .openapi("SignupRequest");

export const ZSignupResponse = z
  .object({ message: z.string(), user_id: ZUuid, email: z.string() })
  .openapi("SignupResponse");

export const ZVerifyEmailRequest = z
  .strictObject({
    token: z.string().min(1).max(128).openapi({ description: "The token from the verification email" }),
    password: ZNewPassword.optional().openapi({
      description:
        "Sets a new password while verifying (every earlier session ends). Required when the address was signed up for more than once, since the mailbox owner cannot know whose password the account holds.",
    }),
  })
  .openapi("VerifyEmailRequest");

export const ZForgotPasswordRequest = z.strictObject({ email: ZEmail }).openapi("ForgotPasswordRequest");

export const ZForgotPasswordResponse = z.object({ message: z.string() }).openapi("ForgotPasswordResponse");

export const ZResetPasswordRequest = z
  .strictObject({
    token: z.string().min(1).max(128).openapi({ description: "The token from the password-reset email (valid 30 minutes, single use)" }),
    new_password: ZNewPassword,
  })
  .openapi("ResetPasswordRequest");

export const ZLoginRequest = z.strictObject({ email: ZEmail, password: ZPassword }).openapi("LoginRequest");

export const ZTokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int().openapi({ description: "Seconds until the access token expires" }),
    refresh_token: z
      .string()
      .optional()
      .openapi({ description: "Single use, valid 30 days: exchange it at POST /v1/auth/refresh for a new pair. Absent for tokens minted from an API key." }),
  })
  .openapi("TokenResponse");

export const ZMfaRequiredResponse = z
  .object({
    mfa_required: z.literal(true),
    mfa_token: z.string().openapi({ description: "Valid 5 minutes; send it with the TOTP or recovery code to POST /v1/auth/mfa/verify" }),
  })
  .openapi("MfaRequired");

export const ZLoginResponse = z.union([ZTokenResponse, ZMfaRequiredResponse]).openapi("LoginResponse");

export const ZRefreshRequest = z.strictObject({ refresh_token: z.string().min(1).max(128) }).openapi("RefreshRequest");

const ZMfaCode = z.string().trim().min(1).max(64).openapi({ description: "A 6-digit TOTP code, or one of the recovery codes", example: "123456" });

export const ZMfaCodeRequest = z.strictObject({ code: ZMfaCode }).openapi("MfaCodeRequest");
export const ZMfaVerifyRequest = z.strictObject({ mfa_token: z.string().min(1).max(4096), code: ZMfaCode }).openapi("MfaVerifyRequest");

export const ZMfaSetupResponse = z
  .object({
    otpauth_uri: z.string().openapi({ description: "Show as a QR code to an authenticator app" }),
    secret: z.string().openapi({ description: "The same secret in base32, for manual entry" }),
  })
  .openapi("MfaSetup");

export const ZRecoveryCodesResponse = z
  .object({ recovery_codes: z.array(z.string()).openapi({ description: "Ten single-use codes, shown only now" }) })
  .openapi("RecoveryCodes");

export const ZMfaStatusResponse = z.object({ enabled: z.boolean(), recovery_codes_remaining: z.number().int() }).openapi("MfaStatus");

export const ZChangePasswordRequest = z.strictObject({ current_password: ZPassword, new_password: ZNewPassword }).openapi("ChangePasswordRequest");

export const ZUpdateMeRequest = z
  .strictObject({ display_name: ZDisplayName.optional(), marketing_emails: z.boolean().optional() })
  .openapi("UpdateMeRequest");

export const ZDeleteMeRequest = z
  .strictObject({ confirmation: z.literal("DELETE MY ACCOUNT", { message: 'must be exactly "DELETE MY ACCOUNT"' }) })
  .openapi("DeleteMeRequest");

export const ZApiKeyTokenRequest = z.strictObject({ api_key: z.string().min(1).max(128).openapi({ example: "1ck_…" }) }).openapi("ApiKeyTokenRequest");

export const ZGoogleLoginRequest = z
  .strictObject({ id_token: z.string().min(1).max(8192).openapi({ description: "A Google ID token (JWT) issued to this server's client id" }) })
  .openapi("GoogleLoginRequest");

export const USER_AUTH_METHODS = ["password", "google"] as const;
export const ZUserAuthMethod = z
  .enum(USER_AUTH_METHODS)
  .openapi({ description: "`google` when the account is linked to a Google identity (signed up or signed in with Google), else `password`" });

export const ZMeResponse = z
  .object({
    id: ZUuid,
    email: z.string(),
    display_name: z.string(),
    org_id: ZUuid,
    role: z.enum(["owner", "admin", "member"]),
    email_verified: z.boolean(),
    marketing_emails: z.boolean(),
    auth_method: ZUserAuthMethod,
    totp_enabled: z.boolean().openapi({ description: "TOTP MFA is on" }),
    created_at: z.string(),
  })
  .openapi("Me");

export const API_KEY_SCOPES_MAX = 32;

/**
 * A personal key's scopes: secret-path patterns, the same grammar as policy patterns
 * (lib/path-glob.ts), a ceiling on every path the key reaches. Every bad pattern is reported on the
 * `scopes` field itself, so a form shows it beside the one input holding the list.
 */
export const ZApiKeyScopes = z
  .array(z.string().max(PATH_PATTERN_MAX))
  .max(API_KEY_SCOPES_MAX)
  .superRefine((patterns, ctx) => {
    for (const p of patterns) {
      const problem = pathPatternProblem(p);
      if (problem) ctx.addIssue({ code: "custom", message: `"${p}" ${problem}` });
    }
  })
  .openapi({
    description: "Secret-path patterns (`*` one segment, `**` any depth) this key and its tokens are limited to; empty = everything you can reach",
    example: ["ci/*"],
  });

export const ZCreateApiKeyRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(255).openapi({ example: "laptop" }),
    scopes: ZApiKeyScopes.optional(),
    expires_at: ZIsoDate.optional(),
  })
  .openapi("CreateApiKeyRequest");

export const ZApiKey = z
  .object({
    id: ZUuid,
    name: z.string(),
    key_prefix: z.string().openapi({ description: "The first characters of the key, enough to recognise it" }),
    scopes: z.array(z.string()),
    is_active: z.boolean(),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
  })
  .openapi("ApiKey");

export const ZCreateApiKeyResponse = z
  .object({ key: ZApiKey, api_key: z.string().openapi({ description: "The full key (`1ck_…`); shown only in this response" }) })
  .openapi("CreateApiKeyResponse");

export const ZApiKeyListResponse = z
  .object({
    keys: z.array(ZApiKey),
    api_keys: z.array(ZApiKey).openapi({ deprecated: true, description: "The same list as `keys`, under Talon's earlier name" }),
  })
  .openapi("ApiKeyList");

const ZB64url = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, { message: "must be base64url without padding" });
const PRIVATE_MEMBER = z
  .unknown()
  .refine(() => false, { message: "must not be sent: a DPoP key is bound by its public half only; send the public JWK, never the private key" })
  .optional()
  .openapi({ description: "A private key member: always refused (400)" });
/** Members that would carry private key material (EC/OKP `d`, RSA's CRT values, symmetric `k`). */
const privateMembers = { d: PRIVATE_MEMBER, p: PRIVATE_MEMBER, q: PRIVATE_MEMBER, dp: PRIVATE_MEMBER, dq: PRIVATE_MEMBER, qi: PRIVATE_MEMBER, oth: PRIVATE_MEMBER, k: PRIVATE_MEMBER };
/** Members WebCrypto's and jose's exports add; accepted and ignored. */
const jwkExtras = {
  kid: z.string().max(256).optional(),
  use: z.literal("sig").optional(),
  key_ops: z.array(z.enum(["verify", "sign"])).max(2).optional(),
  ext: z.boolean().optional(),
};
/** Coordinate length in base64url characters, and the JWS algorithm, per curve. */
const EC_CURVES = { "P-256": { chars: 43, alg: "ES256" }, "P-384": { chars: 64, alg: "ES384" } } as const;

/**
 * A DPoP public key (RFC 9449) as a JWK: EC P-256 (ES256), EC P-384 (ES384) or Ed25519 (EdDSA).
 * Binding a token to it puts its RFC 7638 thumbprint in the token (`cnf.jkt`).
 */
export const ZDpopJwk = z
  .discriminatedUnion("kty", [
    z
      .strictObject({ kty: z.literal("EC"), crv: z.enum(["P-256", "P-384"]), x: ZB64url, y: ZB64url, alg: z.enum(["ES256", "ES384"]).optional(), ...jwkExtras, ...privateMembers })
      .superRefine((k, ctx) => {
        const curve = EC_CURVES[k.crv];
        for (const c of ["x", "y"] as const) {
          if (k[c].length !== curve.chars) ctx.addIssue({ code: "custom", path: [c], message: `must be a ${k.crv} coordinate (${curve.chars} base64url characters)` });
        }
        if (k.alg !== undefined && k.alg !== curve.alg) ctx.addIssue({ code: "custom", path: ["alg"], message: `must be ${curve.alg} for ${k.crv}` });
      }),
    z
      .strictObject({ kty: z.literal("OKP"), crv: z.literal("Ed25519"), x: ZB64url.length(43), alg: z.enum(["EdDSA", "Ed25519"]).optional(), ...jwkExtras, ...privateMembers }),
  ])
  .openapi("DpopJwk", { description: "A public JWK: EC P-256, EC P-384 or OKP Ed25519. Private members (`d`, …) are refused." });

export type DpopJwk = z.infer<typeof ZDpopJwk>;

export type SignupRequest = z.infer<typeof ZSignupRequest>;
export type SignupResponse = z.infer<typeof ZSignupResponse>;
export type LoginRequest = z.infer<typeof ZLoginRequest>;
export type VerifyEmailRequest = z.infer<typeof ZVerifyEmailRequest>;
export type ResetPasswordRequest = z.infer<typeof ZResetPasswordRequest>;
export type TokenResponse = z.infer<typeof ZTokenResponse>;
export type LoginResponse = z.infer<typeof ZLoginResponse>;
export type MfaSetupResponse = z.infer<typeof ZMfaSetupResponse>;
export type MfaStatusResponse = z.infer<typeof ZMfaStatusResponse>;
export type ChangePasswordRequest = z.infer<typeof ZChangePasswordRequest>;
export type UpdateMeRequest = z.infer<typeof ZUpdateMeRequest>;
export type MeResponse = z.infer<typeof ZMeResponse>;
export type CreateApiKeyRequest = z.infer<typeof ZCreateApiKeyRequest>;
export type ApiKeyResponse = z.infer<typeof ZApiKey>;
export type CreateApiKeyResponse = z.infer<typeof ZCreateApiKeyResponse>;
