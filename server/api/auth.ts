import { createRoute } from "@hono/zod-openapi";
import {
  ZApiKeyListResponse,
  ZApiKeyTokenRequest,
  ZChangePasswordRequest,
  ZCreateApiKeyRequest,
  ZCreateApiKeyResponse,
  ZDeleteMeRequest,
  ZForgotPasswordRequest,
  ZForgotPasswordResponse,
  ZGoogleLoginRequest,
  ZLoginRequest,
  ZLoginResponse,
  ZMeResponse,
  ZMfaCodeRequest,
  ZMfaSetupResponse,
  ZMfaStatusResponse,
  ZMfaVerifyRequest,
  ZRecoveryCodesResponse,
  ZRefreshRequest,
  ZResetPasswordRequest,
  ZSignupRequest,
  ZSignupResponse,
  ZTokenResponse,
  ZUpdateMeRequest,
  ZVerifyEmailRequest,
} from "../../lib/contract/auth";
import { problemResponses, ZIdParam } from "../../lib/contract/common";
import { type ApiApp, ctxOf, publicCtxOf, requireAuth } from "../http/pipeline";
import { createApiKey, exchangeApiKey, listApiKeys, revokeApiKey } from "../identity/api-keys";
import { googleSignIn } from "../identity/google";
import { disableMfa, mfaStatus, setupMfa, verifyMfaLogin, verifyMfaSetup } from "../identity/mfa";
import { refreshSession } from "../identity/refresh";
import { forgotPassword, resetPassword } from "../identity/password-reset";
import { changePassword, deleteMe, getMe, login, updateMe } from "../identity/service";
import { signup, verifyEmail } from "../identity/signup";
import { registerWellKnownRoutes } from "./well-known";

const json = <T>(schema: T) => ({ "application/json": { schema } });

const signupRoute = createRoute({
  method: "post",
  path: "/v1/auth/signup",
  tags: ["Auth"],
  summary: "Create an account and its organisation; sends a verification email",
  description:
    "Answers the same 201 whether or not the address already has an account (the mail to the address says which); an unverified sign-up expires after 24 hours.",
  security: [],
  request: { body: { required: true, content: json(ZSignupRequest) } },
  responses: { 201: { description: "Account created, email not yet verified", content: json(ZSignupResponse) }, ...problemResponses(400, 413, 429, 503) },
});

const verifyEmailRoute = createRoute({
  method: "post",
  path: "/v1/auth/verify-email",
  tags: ["Auth"],
  summary: "Verify the email address with the token from the verification email",
  security: [],
  request: { body: { required: true, content: json(ZVerifyEmailRequest) } },
  responses: { 200: { description: "Verified; a user token", content: json(ZTokenResponse) }, ...problemResponses(400, 429) },
});

const forgotPasswordRoute = createRoute({
  method: "post",
  path: "/v1/auth/forgot-password",
  tags: ["Auth"],
  summary: "Mail a password-reset link to the address, if it has an account (the answer is the same either way)",
  security: [],
  request: { body: { required: true, content: json(ZForgotPasswordRequest) } },
  responses: { 202: { description: "Accepted", content: json(ZForgotPasswordResponse) }, ...problemResponses(400, 429) },
});

const resetPasswordRoute = createRoute({
  method: "post",
  path: "/v1/auth/reset-password",
  tags: ["Auth"],
  summary: "Set a new password with the token from the reset email; every session and token of the account ends",
  security: [],
  request: { body: { required: true, content: json(ZResetPasswordRequest) } },
  responses: { 204: { description: "Password set; sign in with it" }, ...problemResponses(400, 429, 503) },
});

const tokenRoute = createRoute({
  method: "post",
  path: "/v1/auth/token",
  tags: ["Auth"],
  summary: "Sign in with email and password",
  description: "Answers a token pair, or `{mfa_required, mfa_token}` when MFA is on (then POST /v1/auth/mfa/verify). Failed attempts are limited per account and per IP (429 + Retry-After).",
  security: [],
  request: { body: { required: true, content: json(ZLoginRequest) } },
  responses: {
    200: { description: "A user token pair, or an MFA challenge", content: json(ZLoginResponse) },
    ...problemResponses(400, 401, 403, 429),
  },
});

const refreshRoute = createRoute({
  method: "post",
  path: "/v1/auth/refresh",
  tags: ["Auth"],
  summary: "Exchange a refresh token for a new token pair (the old refresh token is used up; reusing it revokes its family)",
  security: [],
  request: { body: { required: true, content: json(ZRefreshRequest) } },
  responses: { 200: { description: "A new token pair", content: json(ZTokenResponse) }, ...problemResponses(400, 401) },
});

const googleRoute = createRoute({
  method: "post",
  path: "/v1/auth/google",
  tags: ["Auth"],
  summary: "Sign in (or sign up) with a Google ID token",
  security: [],
  request: { body: { required: true, content: json(ZGoogleLoginRequest) } },
  responses: { 200: { description: "A user token pair, or an MFA challenge", content: json(ZLoginResponse) }, ...problemResponses(400, 401, 403, 409, 503) },
});

const apiKeyTokenRoute = createRoute({
  method: "post",
  path: "/v1/auth/api-key-token",
  tags: ["Auth"],
  summary: "Exchange a personal API key (`1ck_…`) for a short-lived user token",
  security: [],
  request: { body: { required: true, content: json(ZApiKeyTokenRequest) } },
  responses: { 200: { description: "A user token (no refresh token)", content: json(ZTokenResponse) }, ...problemResponses(400, 401) },
});

const mfaVerifyRoute = createRoute({
  method: "post",
  path: "/v1/auth/mfa/verify",
  tags: ["Auth"],
  summary: "Complete an MFA sign-in with the challenge token and a TOTP or recovery code",
  security: [],
  request: { body: { required: true, content: json(ZMfaVerifyRequest) } },
  responses: { 200: { description: "A user token pair", content: json(ZTokenResponse) }, ...problemResponses(400, 401, 429) },
});

const mfaSetupRoute = createRoute({
  method: "post",
  path: "/v1/auth/mfa/setup",
  tags: ["Auth"],
  summary: "Start TOTP enrolment: a new secret to scan into an authenticator app",
  middleware: [requireAuth],
  responses: { 200: { description: "The secret, as a URI and in base32", content: json(ZMfaSetupResponse) }, ...problemResponses(401, 403, 409) },
});

const mfaVerifySetupRoute = createRoute({
  method: "post",
  path: "/v1/auth/mfa/verify-setup",
  tags: ["Auth"],
  summary: "Confirm enrolment with a first code; turns MFA on and returns ten recovery codes",
  middleware: [requireAuth],
  request: { body: { required: true, content: json(ZMfaCodeRequest) } },
  responses: { 200: { description: "Recovery codes, shown once", content: json(ZRecoveryCodesResponse) }, ...problemResponses(400, 401, 403, 409) },
});

const mfaStatusRoute = createRoute({
  method: "get",
  path: "/v1/auth/mfa/status",
  tags: ["Auth"],
  summary: "Whether MFA is on, and how many recovery codes are left",
  middleware: [requireAuth],
  responses: { 200: { description: "MFA status", content: json(ZMfaStatusResponse) }, ...problemResponses(401) },
});

const mfaDisableRoute = createRoute({
  method: "delete",
  path: "/v1/auth/mfa",
  tags: ["Auth"],
  summary: "Turn MFA off (needs a current TOTP or recovery code)",
  middleware: [requireAuth],
  request: { body: { required: true, content: json(ZMfaCodeRequest) } },
  responses: { 204: { description: "MFA is off" }, ...problemResponses(400, 401, 403, 409, 429) },
});

const changePasswordRoute = createRoute({
  method: "post",
  path: "/v1/auth/change-password",
  tags: ["Auth"],
  summary: "Change the password; every existing access and refresh token stops working",
  middleware: [requireAuth],
  request: { body: { required: true, content: json(ZChangePasswordRequest) } },
  responses: { 204: { description: "Changed" }, ...problemResponses(400, 401, 403, 409, 429) },
});

const updateMeRoute = createRoute({
  method: "patch",
  path: "/v1/auth/me",
  tags: ["Auth"],
  summary: "Update your profile",
  middleware: [requireAuth],
  request: { body: { required: true, content: json(ZUpdateMeRequest) } },
  responses: { 200: { description: "The updated user", content: json(ZMeResponse) }, ...problemResponses(400, 401) },
});

const deleteMeRoute = createRoute({
  method: "delete",
  path: "/v1/auth/me",
  tags: ["Auth"],
  summary: "Delete your account (a sole member's organisation goes with it)",
  middleware: [requireAuth],
  request: { body: { required: true, content: json(ZDeleteMeRequest) } },
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 409) },
});

const meRoute = createRoute({
  method: "get",
  path: "/v1/auth/me",
  tags: ["Auth"],
  summary: "The signed-in user",
  middleware: [requireAuth],
  responses: { 200: { description: "Current user", content: json(ZMeResponse) }, ...problemResponses(401) },
});

const createKeyRoute = createRoute({
  method: "post",
  path: "/v1/auth/api-keys",
  tags: ["Auth"],
  summary: "Create a personal API key (`1ck_…`, shown once)",
  middleware: [requireAuth],
  request: { body: { required: true, content: json(ZCreateApiKeyRequest) } },
  responses: { 201: { description: "Created", content: json(ZCreateApiKeyResponse) }, ...problemResponses(400, 401, 403) },
});

const listKeysRoute = createRoute({
  method: "get",
  path: "/v1/auth/api-keys",
  tags: ["Auth"],
  summary: "List your personal API keys (masked)",
  middleware: [requireAuth],
  responses: { 200: { description: "Keys", content: json(ZApiKeyListResponse) }, ...problemResponses(401) },
});

const deleteKeyRoute = createRoute({
  method: "delete",
  path: "/v1/auth/api-keys/{id}",
  tags: ["Auth"],
  summary: "Revoke a personal API key; it fails from the next request on",
  middleware: [requireAuth],
  request: { params: ZIdParam },
  responses: { 204: { description: "Revoked" }, ...problemResponses(400, 401, 404) },
});

/** Also registers `/.well-known/jwks.json`, which publishes the key these routes' tokens are signed with. */
export function registerAuthRoutes(app: ApiApp) {
  registerWellKnownRoutes(app);
  app.openapi(signupRoute, async (c) => c.json(await signup(publicCtxOf(c), c.req.valid("json")), 201));
  app.openapi(verifyEmailRoute, async (c) => c.json(await verifyEmail(publicCtxOf(c), c.req.valid("json")), 200));
  app.openapi(forgotPasswordRoute, async (c) => c.json(await forgotPassword(publicCtxOf(c), c.req.valid("json").email), 202));
  app.openapi(resetPasswordRoute, async (c) => {
    await resetPassword(publicCtxOf(c), c.req.valid("json"));
    return c.body(null, 204);
  });
  app.openapi(tokenRoute, async (c) => c.json(await login(publicCtxOf(c), c.req.valid("json")), 200));
  app.openapi(refreshRoute, async (c) => c.json(await refreshSession(publicCtxOf(c), c.req.valid("json").refresh_token), 200));
  app.openapi(googleRoute, async (c) => c.json(await googleSignIn(publicCtxOf(c), c.req.valid("json").id_token), 200));
  app.openapi(apiKeyTokenRoute, async (c) => c.json(await exchangeApiKey(publicCtxOf(c), c.req.valid("json").api_key), 200));
  app.openapi(mfaVerifyRoute, async (c) => c.json(await verifyMfaLogin(publicCtxOf(c), c.req.valid("json")), 200));
  app.openapi(mfaSetupRoute, async (c) => c.json(await setupMfa(ctxOf(c)), 200));
  app.openapi(mfaVerifySetupRoute, async (c) => c.json(await verifyMfaSetup(ctxOf(c), c.req.valid("json").code), 200));
  app.openapi(mfaStatusRoute, async (c) => c.json(await mfaStatus(ctxOf(c)), 200));
  app.openapi(mfaDisableRoute, async (c) => {
    await disableMfa(ctxOf(c), c.req.valid("json").code);
    return c.body(null, 204);
  });
  app.openapi(changePasswordRoute, async (c) => {
    await changePassword(ctxOf(c), c.req.valid("json"));
    return c.body(null, 204);
  });
  app.openapi(meRoute, async (c) => c.json(await getMe(ctxOf(c)), 200));
  app.openapi(updateMeRoute, async (c) => c.json(await updateMe(ctxOf(c), c.req.valid("json")), 200));
  app.openapi(deleteMeRoute, async (c) => {
    c.req.valid("json");
    await deleteMe(ctxOf(c));
    return c.body(null, 204);
  });
  app.openapi(createKeyRoute, async (c) => c.json(await createApiKey(ctxOf(c), c.req.valid("json")), 201));
  app.openapi(listKeysRoute, async (c) => c.json(await listApiKeys(ctxOf(c)), 200));
  app.openapi(deleteKeyRoute, async (c) => {
    await revokeApiKey(ctxOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
}
