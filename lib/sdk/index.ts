/**
 * The Talon TypeScript SDK: `createClient({ baseUrl, agentId?, apiKey?, token? })`, resources named as
 * on the skill card. Every method resolves to `{ data, error, meta }` and never throws for HTTP errors.
 */
import { type ClientOptions, Transport } from "./client";
import { accessResource } from "./resources/access";
import { agentsResource } from "./resources/agents";
import { approvalsResource } from "./resources/approvals";
import { auditResource } from "./resources/audit";
import { apiKeysResource, authResource } from "./resources/auth";
import { billingResource } from "./resources/billing";
import { bindingsResource } from "./resources/bindings";
import { chainsResource } from "./resources/chains";
import { cmekResource } from "./resources/cmek";
import { orgResource } from "./resources/org";
import { secretsResource } from "./resources/secrets";
import { sharingResource } from "./resources/sharing";
import { vaultsResource } from "./resources/vaults";

export function createClient(options: ClientOptions) {
  const transport = new Transport(options);
  return {
    /** The shared HTTP transport (the CLI and the MCP server build on it). */
    transport,
    vaults: vaultsResource(transport),
    secrets: secretsResource(transport),
    agents: agentsResource(transport),
    access: accessResource(transport),
    sharing: sharingResource(transport),
    audit: auditResource(transport),
    billing: billingResource(transport),
    auth: authResource(transport),
    apiKeys: apiKeysResource(transport),
    org: orgResource(transport),
    chains: chainsResource(transport),
    cmek: cmekResource(transport),
    bindings: bindingsResource(transport),
    approvals: approvalsResource(transport),
  };
}

export type TalonClient = ReturnType<typeof createClient>;
export { encodeSecretPath, seg, Transport } from "./client";
export { createDpopProof, dpopHtu, dpopKeyFromKeyPair, dpopThumbprint, generateDpopKey } from "./dpop";
export type { DpopAlgorithm, DpopKey, DpopProofInput, DpopPublicJwk } from "./dpop";
export type { Approval, ApprovalList, ApprovalListQuery, ApproveInput, BreakGlassInput } from "./resources/approvals";
export type { ClientOptions, RequestOptions, SdkError, SdkMeta, SdkResponse, TokenSet } from "./client";
export { decodePaymentResponse, getPaymentRequirement, pay, withPayment, X402_PAYMENT_HEADER, X402_PAYMENT_RESPONSE_HEADER } from "./x402";
export type { PayOptions, WithPaymentOptions, X402Requirement, X402SettlementResponse, X402Signer } from "./x402";
export type * from "./types";
export type { Chain, ChainList } from "./resources/chains";
export { ENV_NAME_RE, parseEnvBundle, type EnvBundleResult } from "./env-bundle";
export { cmekFingerprint, cmekKeyFileText, decodeCmekKey, decryptCmekValue, encryptCmekValue, generateCmekKeyBytes, importCmekKey, importCmekKeyFile } from "../crypto/cmek";
export type { CmekKey } from "../crypto/cmek";
export type { CmekKeyInput } from "./cmek";
