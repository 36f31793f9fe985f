/**
 * Request and response types, inferred from the contract schemas (type-only imports: the SDK bundle
 * holds no zod). Requests use `z.input` (defaults optional), responses `z.infer`.
 */
import type { z } from "@hono/zod-openapi";
import type * as agents from "../contract/agents";
import type * as audit from "../contract/audit";
import type * as auth from "../contract/auth";
import type * as billing from "../contract/billing";
import type * as org from "../contract/org";
import type * as policies from "../contract/policies";
import type * as secrets from "../contract/secrets";
import type * as secretTransfer from "../contract/secret-transfer";
import type * as secretUse from "../contract/secret-use";
import type * as shares from "../contract/shares";
import type * as vaults from "../contract/vaults";

export type CreateVaultInput = z.input<typeof vaults.ZCreateVaultRequest>;
export type Vault = z.infer<typeof vaults.ZVaultResponse>;
export type VaultList = z.infer<typeof vaults.ZVaultListResponse>;

export type PutSecretInput = z.input<typeof secrets.ZPutSecretRequest>;
export type SecretOptions = Omit<PutSecretInput, "value">;
export type RotateGenerateInput = z.input<typeof secrets.ZRotateSecretRequest>;
export type Secret = z.infer<typeof secrets.ZSecretResponse>;
export type SecretWritten = z.infer<typeof secrets.ZPutSecretResponse>;
export type SecretRotated = z.infer<typeof secrets.ZRotateSecretResponse>;
export type SecretList = z.infer<typeof secrets.ZSecretListResponse>;
export type SecretVersions = z.infer<typeof secrets.ZSecretVersionsResponse>;
export type DeletedSecretList = z.infer<typeof secretTransfer.ZDeletedSecretList>;
export type RestoredSecret = z.infer<typeof secretTransfer.ZRestoredSecret>;
export type SecretType = secrets.SecretType;
export type SecretInjectInput = z.input<typeof secretUse.ZSecretInjectRequest>;
export type SecretInjected = z.infer<typeof secretUse.ZSecretInjectResponse>;

export type CreateAgentInput = z.input<typeof agents.ZCreateAgentRequest>;
export type UpdateAgentInput = z.input<typeof agents.ZUpdateAgentRequest>;
export type Agent = z.infer<typeof agents.ZAgent>;
export type AgentSelf = z.infer<typeof agents.ZAgentSelf>;
export type AgentList = z.infer<typeof agents.ZAgentListResponse>;
export type CreatedAgent = z.infer<typeof agents.ZCreateAgentResponse>;
export type RotatedAgentKey = z.infer<typeof agents.ZRotateAgentKeyResponse>;
export type AgentTokenInput = z.input<typeof agents.ZAgentTokenRequest>;
export type AgentToken = z.infer<typeof agents.ZAgentTokenResponse>;

export type CreatePolicyInput = z.input<typeof policies.ZCreatePolicyRequest>;
export type UpdatePolicyInput = z.input<typeof policies.ZUpdatePolicyRequest>;
export type Policy = z.infer<typeof policies.ZPolicyResponse>;
export type PolicyList = z.infer<typeof policies.ZPolicyListResponse>;
export type PolicyPermission = policies.PolicyPermission;

export type LoginInput = z.input<typeof auth.ZLoginRequest>;
export type LoginResult = z.infer<typeof auth.ZLoginResponse>;
export type TokenResult = z.infer<typeof auth.ZTokenResponse>;
export type SignupInput = z.input<typeof auth.ZSignupRequest>;
export type SignupResult = z.infer<typeof auth.ZSignupResponse>;
export type Me = z.infer<typeof auth.ZMeResponse>;
export type UpdateMeInput = z.input<typeof auth.ZUpdateMeRequest>;
export type MfaSetup = z.infer<typeof auth.ZMfaSetupResponse>;
export type MfaStatus = z.infer<typeof auth.ZMfaStatusResponse>;
export type RecoveryCodes = z.infer<typeof auth.ZRecoveryCodesResponse>;
export type CreateApiKeyInput = z.input<typeof auth.ZCreateApiKeyRequest>;
export type ApiKey = z.infer<typeof auth.ZApiKey>;
export type CreatedApiKey = z.infer<typeof auth.ZCreateApiKeyResponse>;
export type ApiKeyList = z.infer<typeof auth.ZApiKeyListResponse>;

export type OrgRole = z.infer<typeof org.ZOrgRole>;
export type Member = z.infer<typeof org.ZMember>;
export type MemberList = z.infer<typeof org.ZMemberListResponse>;
export type CreateInvitationInput = z.input<typeof org.ZCreateInvitationRequest>;
export type Invitation = z.infer<typeof org.ZInvitation>;
export type InvitationList = z.infer<typeof org.ZInvitationListResponse>;
export type AcceptInvitationInput = z.input<typeof org.ZAcceptInvitationRequest>;

export type CreateShareInput = z.input<typeof shares.ZCreateShareRequest>;
export type ShareCreated = z.infer<typeof shares.ZShareCreated>;
export type SharedSecret = z.infer<typeof shares.ZSharedSecret>;
export type ShareList = z.infer<typeof shares.ZShareList>;

/** `limit`/`offset` are coerced from the query string on the server; numbers here. */
export type AuditQueryInput = Omit<z.input<typeof audit.ZAuditQuery>, "limit" | "offset"> & { limit?: number; offset?: number };
export type AuditEventList = z.infer<typeof audit.ZAuditEventList>;
export type AuditVerify = z.infer<typeof audit.ZAuditVerifyResponse>;

export type Subscription = z.infer<typeof billing.ZSubscriptionResponse>;
export type Usage = z.infer<typeof billing.ZUsageResponse>;
export type UsageHistory = z.infer<typeof billing.ZHistoryResponse>;
export type CreditBalance = z.infer<typeof billing.ZCreditBalanceResponse>;
export type CreditTransactions = z.infer<typeof billing.ZCreditTransactionsResponse>;
export type OverageMethod = z.infer<typeof billing.ZOverageMethod>;
export type OverageMethodResult = z.infer<typeof billing.ZOverageMethodResponse>;
export type Checkout = z.infer<typeof billing.ZCheckoutResponse>;
