import { z } from "@hono/zod-openapi";
import { pathPatternProblem } from "../path-glob";
import { ZDpopJwk } from "./auth";
import { ZIsoDate, ZUuid } from "./common";

/** The skill card's default chain registry; guardrails name chains from it. */
export const CHAIN_NAMES = ["ethereum", "base", "optimism", "arbitrum-one", "polygon", "sepolia", "base-sepolia", "localhost"] as const;
export const AUTH_METHODS = ["api_key", "mtls", "oidc_client_credentials"] as const;

const ZScope = z
  .string()
  .max(512)
  .superRefine((s, ctx) => {
    const problem = pathPatternProblem(s);
    if (problem) ctx.addIssue({ code: "custom", message: `path pattern ${problem}` });
  });
const ZScopes = z.array(ZScope).max(100).openapi({ description: "Explicit path-pattern ceiling (`api-keys/*`, `db/**`) over the agent's policies; changing it revokes the agent's tokens. Empty = no ceiling: tokens list scopes derived from the agent's policies (`scope_source: \"derived\"`) for information, and the live policies decide on every request" });

/** Checksum-insensitive: stored lower-case, so `0xAbC…` and `0xabc…` are the same destination. */
const ZAddress = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address")
  .transform((a) => a.toLowerCase());

/** ETH amounts stay decimal strings (never floats): at most 18 decimals, greater than zero. */
const ZEthAmount = z
  .string()
  .max(64)
  .regex(/^\d{1,40}(\.\d{1,18})?$/, "must be a decimal ETH amount with at most 18 decimals")
  .refine((s) => /[1-9]/.test(s), "must be greater than 0")
  .openapi({ example: "0.5" });

const ZChain = z.enum(CHAIN_NAMES);
export const AGENT_TOKEN_TTL_MAX_SECONDS = 86_400;
const ZTokenTtl = z.number().int().min(60).max(AGENT_TOKEN_TTL_MAX_SECONDS).openapi({ description: "Lifetime of this agent's JWTs in seconds (default 3600)" });
const ZVaultIds = z.array(ZUuid).max(100).openapi({ description: "Vault binding: non-empty = only these vaults" });

/** SHA-256 of the client certificate (DER), hex, colons allowed; stored as 64 lower-case hex digits. */
const ZFingerprint = z
  .string()
  .max(95)
  .transform((s) => s.replace(/:/g, "").toLowerCase())
  .pipe(z.string().regex(/^[0-9a-f]{64}$/, "must be a SHA-256 fingerprint (64 hex digits, colons allowed)"));

const guardrailFields = {
  crypto_proxy_enabled: z.boolean().optional(),
  intents_api_enabled: z.boolean().optional().openapi({ description: "Alias of crypto_proxy_enabled" }),
  tx_to_allowlist: z.array(ZAddress).max(500).optional(),
  tx_allowed_chains: z.array(ZChain).max(CHAIN_NAMES.length).optional(),
};

/** `0.50` and `.5`-free spellings of one amount compare equal: no leading or trailing zeros. */
const canonicalEth = (s: string) => s.replace(/^0+(?=\d)/, "").replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
const sameValue = (a: unknown, b: unknown) => a === b || (typeof a === "string" && typeof b === "string" && canonicalEth(a) === canonicalEth(b));

/** The card's aliases (the 1Claw SDK's spellings), each beside the field it names. */
const ALIASES = [
  ["intents_api_enabled", "crypto_proxy_enabled"],
  ["tx_max_value", "tx_max_value_eth"],
  ["tx_daily_limit", "tx_daily_limit_eth"],
] as const;

type AliasFields = { crypto_proxy_enabled?: boolean; intents_api_enabled?: boolean; tx_max_value_eth?: string | null; tx_max_value?: string | null; tx_daily_limit_eth?: string | null; tx_daily_limit?: string | null };

/** Two spellings of one setting must not disagree. */
function aliasesAgree(v: AliasFields, ctx: z.RefinementCtx) {
  for (const [alias, field] of ALIASES) {
    if (v[alias] !== undefined && v[field] !== undefined && !sameValue(v[alias], v[field])) {
      ctx.addIssue({ code: "custom", path: [alias], message: `must equal ${field} when both are given` });
    }
  }
}

/** Identifiers that belong to one auth method: required with it, refused with the others. */
const METHOD_FIELDS = { client_cert_fingerprint: "mtls", oidc_issuer: "oidc_client_credentials", oidc_client_id: "oidc_client_credentials" } as const;

export const ZCreateAgentRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(255),
    description: z.string().max(2000).optional(),
    auth_method: z.enum(AUTH_METHODS).default("api_key"),
    scopes: ZScopes.optional(),
    expires_at: ZIsoDate.optional(),
    ...guardrailFields,
    tx_max_value_eth: ZEthAmount.optional(),
    tx_daily_limit_eth: ZEthAmount.optional(),
    tx_max_value: ZEthAmount.optional().openapi({ description: "Alias of tx_max_value_eth" }),
    tx_daily_limit: ZEthAmount.optional().openapi({ description: "Alias of tx_daily_limit_eth" }),
    token_ttl_seconds: ZTokenTtl.optional(),
    vault_ids: ZVaultIds.optional(),
    client_cert_fingerprint: ZFingerprint.optional(),
    oidc_issuer: z.url({ protocol: /^https?$/ }).max(2048).optional(),
    oidc_client_id: z.string().min(1).max(255).optional(),
  })
  .superRefine((v, ctx) => {
    aliasesAgree(v, ctx);
    for (const [field, method] of Object.entries(METHOD_FIELDS) as [keyof typeof METHOD_FIELDS, string][]) {
      const present = v[field] !== undefined;
      if (v.auth_method === method && !present) ctx.addIssue({ code: "custom", path: [field], message: `required when auth_method is ${method}` });
      if (v.auth_method !== method && present) ctx.addIssue({ code: "custom", path: [field], message: `only allowed when auth_method is ${method}` });
    }
  })
  .openapi("CreateAgentRequest");

/** What a human may change; `null` clears an optional setting. The auth method and its identifiers are fixed at creation. */
export const ZUpdateAgentRequest = z
  .strictObject({
    is_active: z.boolean().optional(),
    name: z.string().trim().min(1).max(255).optional(),
    description: z.string().max(2000).optional(),
    scopes: ZScopes.optional(),
    expires_at: ZIsoDate.nullable().optional(),
    ...guardrailFields,
    tx_max_value_eth: ZEthAmount.nullable().optional(),
    tx_daily_limit_eth: ZEthAmount.nullable().optional(),
    tx_max_value: ZEthAmount.nullable().optional().openapi({ description: "Alias of tx_max_value_eth" }),
    tx_daily_limit: ZEthAmount.nullable().optional().openapi({ description: "Alias of tx_daily_limit_eth" }),
    token_ttl_seconds: ZTokenTtl.nullable().optional(),
    vault_ids: ZVaultIds.optional(),
    created_by: ZUuid.optional().openapi({ description: "Reassign the agent to another member of the organisation (owners and admins)" }),
  })
  .superRefine(aliasesAgree)
  .openapi("UpdateAgentRequest");

export const ZAgent = z
  .object({
    id: ZUuid,
    name: z.string(),
    description: z.string(),
    auth_method: z.enum(AUTH_METHODS),
    scopes: z.array(z.string()),
    expires_at: z.string().nullable(),
    is_active: z.boolean(),
    deactivated_reason: z.string().nullable().openapi({ description: "Why an inactive agent was deactivated, e.g. `registered by a removed member`; null while active" }),
    crypto_proxy_enabled: z.boolean(),
    intents_api_enabled: z.boolean().openapi({ description: "The same flag as crypto_proxy_enabled, under the 1Claw SDK's later name" }),
    tx_to_allowlist: z.array(z.string()),
    tx_max_value_eth: z.string().nullable(),
    tx_daily_limit_eth: z.string().nullable(),
    tx_allowed_chains: z.array(z.string()),
    token_ttl_seconds: z.number().int().nullable(),
    vault_ids: z.array(ZUuid),
    client_cert_fingerprint: z.string().nullable(),
    oidc_issuer: z.string().nullable(),
    oidc_client_id: z.string().nullable(),
    ssh_public_key: z.string().openapi({ description: "OpenSSH Ed25519 public key (`ssh-ed25519 AAAA… talon-agent-<id>`)" }),
    ecdh_public_key: z.string().openapi({ description: "The agent's X25519 public key, 32 bytes in base64 (its private half is in the system vault, like the SSH key)" }),
    created_by: z.string().openapi({ description: "Id of the member who registered the agent (or to whom it was reassigned)" }),
    created_at: z.string(),
    last_active_at: z.string().nullable(),
  })
  .openapi("Agent");

export const ZAgentSelf = ZAgent.extend({
  org_id: ZUuid,
  ssh_key_location: z
    .object({ vault_id: ZUuid, path: z.string() })
    .nullable()
    .openapi({ description: "Where the agent reads its own SSH private key: GET /v1/vaults/{vault_id}/secrets/{path} (Talon's system vault, never listed)" }),
  ecdh_key_location: z
    .object({ vault_id: ZUuid, path: z.string() })
    .nullable()
    .openapi({ description: "Where the agent reads its own X25519 private key (PKCS#8 PEM), in the same system vault" }),
}).openapi("AgentSelf");

export const ZCreateAgentResponse = z
  .object({
    agent: ZAgent,
    api_key: z.string().optional().openapi({ description: "The agent's key (`ocv_…`), shown only here; api_key agents only" }),
  })
  .openapi("CreateAgentResponse");

export const ZAgentListResponse = z.object({ agents: z.array(ZAgent) }).openapi("AgentList");
export const ZRotateAgentKeyResponse = z.object({ api_key: z.string() }).openapi("RotateAgentKeyResponse");

/**
 * One exchange endpoint for the three auth methods: `api_key` (ocv_ key), `client_assertion` (a JWT
 * from the agent's configured OIDC issuer), or neither — then the TLS client certificate decides.
 */
export const ZAgentTokenRequest = z
  .strictObject({
    agent_id: ZUuid.optional().openapi({ description: "Required except with `api_key`, which names its agent by its non-secret prefix" }),
    api_key: z.string().min(1).max(256).optional(),
    client_assertion: z.string().min(1).max(8192).optional(),
    dpop_jwk: ZDpopJwk.optional().openapi({
      description: "A public key to bind the token to (DPoP, RFC 9449): the token then needs a proof signed by this key on every request. A `DPoP` proof header does the same and proves possession now.",
    }),
  })
  .refine((v) => v.api_key === undefined || v.client_assertion === undefined, { message: "send api_key or client_assertion, not both", path: ["client_assertion"] })
  .refine((v) => v.agent_id !== undefined || v.api_key !== undefined, { message: "required unless api_key is given", path: ["agent_id"] })
  .openapi("AgentTokenRequest");

export const ZAgentTokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.enum(["bearer", "DPoP"]).openapi({
      description: "`bearer` as the card shows (the scheme itself is case-insensitive: `Authorization: Bearer …`); `DPoP` for a token bound to a DPoP key",
    }),
    expires_in: z.number().int(),
    agent_id: ZUuid,
    vault_ids: z.array(ZUuid),
  })
  .openapi("AgentTokenResponse");

export type CreateAgentRequest = z.infer<typeof ZCreateAgentRequest>;
export type UpdateAgentRequest = z.infer<typeof ZUpdateAgentRequest>;
export type AgentResponse = z.infer<typeof ZAgent>;
export type AgentSelfResponse = z.infer<typeof ZAgentSelf>;
export type CreateAgentResponse = z.infer<typeof ZCreateAgentResponse>;
export type AgentTokenRequest = z.infer<typeof ZAgentTokenRequest>;
export type AgentTokenResponse = z.infer<typeof ZAgentTokenResponse>;
