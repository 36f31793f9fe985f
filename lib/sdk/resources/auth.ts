import { seg, type SdkResponse, type Transport } from "../client";
import type { AgentToken, AgentTokenInput, ApiKeyList, CreateApiKeyInput, CreatedApiKey, LoginInput, LoginResult, Me, MfaSetup, MfaStatus, RecoveryCodes, SignupInput, SignupResult, TokenResult, UpdateMeInput } from "../types";

/** A token pair answered by login-like calls becomes the client's credential for the calls after it. */
function adopt<T>(t: Transport, r: SdkResponse<T>): SdkResponse<T> {
  const d = r.data as { access_token?: unknown; expires_in?: unknown; refresh_token?: string } | null;
  if (d && typeof d.access_token === "string" && typeof d.expires_in === "number") {
    t.useTokens({ access_token: d.access_token, expires_in: d.expires_in, refresh_token: d.refresh_token });
  }
  return r;
}

export function authResource(t: Transport) {
  return {
    /** Human sign-in. On success the client uses the returned token; `{ mfa_required, mfa_token }` means a second step. */
    login: async (input: LoginInput): Promise<SdkResponse<LoginResult>> =>
      adopt(t, await t.request<LoginResult>("POST", "/v1/auth/token", { auth: false, body: input })),
    /** Exchanges an agent key for a JWT, which the client then uses. */
    agentToken: async (input: AgentTokenInput): Promise<SdkResponse<AgentToken>> =>
      adopt(t, await t.request<AgentToken>("POST", "/v1/auth/agent-token", { auth: false, body: input })),
    /** Revokes the presented token on the server, then forgets it. */
    logout: async (): Promise<SdkResponse<null>> => {
      const r = await t.request<null>("DELETE", "/v1/auth/token");
      if (!r.error) t.clearToken();
      return r;
    },
    signup: (input: SignupInput): Promise<SdkResponse<SignupResult>> => t.request("POST", "/v1/auth/signup", { auth: false, body: input }),
    verifyEmail: async (token: string): Promise<SdkResponse<TokenResult>> =>
      adopt(t, await t.request<TokenResult>("POST", "/v1/auth/verify-email", { auth: false, body: { token } })),
    /** Exchanges a refresh token (single use) for a new pair, which the client then uses. */
    refresh: async (refreshToken: string): Promise<SdkResponse<TokenResult>> =>
      adopt(t, await t.request<TokenResult>("POST", "/v1/auth/refresh", { auth: false, body: { refresh_token: refreshToken } })),
    /** Exchanges a personal `1ck_` key for a short-lived user JWT, which the client then uses. */
    apiKeyToken: async (apiKey: string): Promise<SdkResponse<TokenResult>> =>
      adopt(t, await t.request<TokenResult>("POST", "/v1/auth/api-key-token", { auth: false, body: { api_key: apiKey } })),
    google: async (idToken: string): Promise<SdkResponse<LoginResult>> =>
      adopt(t, await t.request<LoginResult>("POST", "/v1/auth/google", { auth: false, body: { id_token: idToken } })),
    /** The second login step: the `mfa_token` from `login` and a TOTP or recovery code. */
    mfaVerify: async (input: { mfa_token: string; code: string }): Promise<SdkResponse<TokenResult>> =>
      adopt(t, await t.request<TokenResult>("POST", "/v1/auth/mfa/verify", { auth: false, body: input })),
    mfaSetup: (): Promise<SdkResponse<MfaSetup>> => t.request("POST", "/v1/auth/mfa/setup"),
    mfaVerifySetup: (code: string): Promise<SdkResponse<RecoveryCodes>> => t.request("POST", "/v1/auth/mfa/verify-setup", { body: { code } }),
    mfaStatus: (): Promise<SdkResponse<MfaStatus>> => t.request("GET", "/v1/auth/mfa/status"),
    mfaDisable: (code: string): Promise<SdkResponse<null>> => t.request("DELETE", "/v1/auth/mfa", { body: { code } }),
    changePassword: (input: { current_password: string; new_password: string }): Promise<SdkResponse<null>> =>
      t.request("POST", "/v1/auth/change-password", { body: input }),
    me: (): Promise<SdkResponse<Me>> => t.request("GET", "/v1/auth/me"),
    updateMe: (input: UpdateMeInput): Promise<SdkResponse<Me>> => t.request("PATCH", "/v1/auth/me", { body: input }),
    /** The caller spells out the confirmation, as the API requires. */
    deleteMe: (confirmation: "DELETE MY ACCOUNT"): Promise<SdkResponse<null>> => t.request("DELETE", "/v1/auth/me", { body: { confirmation } }),
  };
}

export function apiKeysResource(t: Transport) {
  return {
    /** `data.api_key` (`1ck_…`) is shown only in this response. */
    create: (input: CreateApiKeyInput): Promise<SdkResponse<CreatedApiKey>> => t.request("POST", "/v1/auth/api-keys", { body: input }),
    list: (): Promise<SdkResponse<ApiKeyList>> => t.request("GET", "/v1/auth/api-keys"),
    revoke: (keyId: string): Promise<SdkResponse<null>> => t.request("DELETE", `/v1/auth/api-keys/${seg(keyId)}`),
  };
}
