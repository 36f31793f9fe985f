/**
 * The MCP tools, defined once and served by both transports (stdio: lib/mcp/stdio.ts; hosted:
 * server/api/mcp.ts). Names and parameters follow the skill card; inputs reuse the contract's zod
 * schemas, and every call goes through the SDK's HTTP client. Tools taking `path` act in the
 * session's vault. Only get_secret and get_env_bundle return secret values.
 */
import { z } from "@hono/zod-openapi";
import { ZIsoDate, ZMetadata, ZUuid } from "../contract/common";
import { PRINCIPAL_TYPES, ZCreatePolicyRequest } from "../contract/policies";
import { ROTATE_CHARSETS, ZListSecretsQuery, ZPutSecretRequest, ZSecretType, ZSecretValue } from "../contract/secrets";
import { ZSecretPath } from "../contract/secret-path";
import { ZCreateShareRequest } from "../contract/shares";
import { ZExecuteRequest } from "../contract/bindings";
import { ZCreateVaultRequest } from "../contract/vaults";
import { ZSimulateTransactionRequest, ZSubmitTransactionRequest } from "../contract/transactions";
import { parseEnvBundle, type SdkResponse, type TalonClient } from "../sdk";
import { errorText, type NotFoundHint } from "./errors";
import type { Redactor } from "./redaction";

export type ToolContext = {
  /** The client for this call (hosted sessions rebind it to each request's bearer). */
  client(): TalonClient;
  vaultId: string;
  redactor: Redactor;
  /** The vault's customer key file text (stdio only, TALON_CMEK_KEY_FILE): values are decrypted/encrypted here (docs/cmek.md). */
  cmekKey?: string;
};

/** `preRedacted`: the tool redacted its output itself because part of it is a value it may return. */
export type ToolOutcome = { data: unknown; preRedacted?: boolean } | { error: string };

type Shape = Record<string, z.ZodType>;
export type ToolDef<S extends Shape = Shape> = {
  name: string;
  description: string;
  inputSchema: S;
  readOnly: boolean;
  destructive?: boolean;
  run(ctx: ToolContext, args: z.infer<z.ZodObject<S>>): Promise<ToolOutcome>;
};

const tool = <S extends Shape>(def: ToolDef<S>) => def as unknown as ToolDef;

function settle<T>(r: SdkResponse<T>, hint: NotFoundHint = "secret"): { ok: true; data: T } | { ok: false; outcome: ToolOutcome } {
  return r.error ? { ok: false, outcome: { error: errorText(r.error, r.meta, hint) } } : { ok: true, data: r.data };
}
const pass = async <T>(p: Promise<SdkResponse<T>>, hint: NotFoundHint = "secret"): Promise<ToolOutcome> => {
  const r = settle(await p, hint);
  return r.ok ? { data: r.data } : r.outcome;
};

const path = ZSecretPath.describe("Secret path (e.g. api-keys/stripe)");
const putShape = ZPutSecretRequest.shape;
const txShape = ZSubmitTransactionRequest.shape;
const simulateInput = {
  to: txShape.to.describe("Destination address (0x-prefixed)"),
  value: txShape.value.describe('Value in ETH (e.g. "0.01")'),
  chain: txShape.chain.describe("Chain name or chain ID (see Supported Chains)"),
  data: txShape.data.describe("Hex-encoded calldata"),
  signing_key_path: txShape.signing_key_path.describe("Vault path to signing key (default keys/{chain}-signer), or hsm:<address>"),
  gas_limit: txShape.gas_limit.describe("Gas limit (default: estimated)"),
};

/** The crypto-proxy tools act for the calling agent: its id comes from the server, never from the model. */
async function selfId(ctx: ToolContext): Promise<{ ok: true; id: string } | { ok: false; outcome: ToolOutcome }> {
  const r = settle(await ctx.client().agents.me());
  return r.ok ? { ok: true, id: r.data.id } : r;
}

export const TOOLS: ToolDef[] = [
  tool({
    name: "list_secrets",
    description: "List all secrets in the vault. Returns ids, paths, types, and versions — never values. Pass an id to share_secret as secret_id.",
    inputSchema: { prefix: ZListSecretsQuery.shape.prefix.describe("Path prefix to filter (e.g. api-keys/)") },
    readOnly: true,
    run: (ctx, a) => pass(ctx.client().secrets.list(ctx.vaultId, a.prefix)),
  }),
  tool({
    name: "get_secret",
    description:
      "Fetch the decrypted value of a secret (needs `read`; with only `use` on the path Talon refuses and uses the value for you instead, e.g. through execute_http). Use immediately before the API call that needs it. Never store the value or include it in summaries.",
    inputSchema: { path },
    readOnly: false, // a read counts toward max_access_count
    async run(ctx, a) {
      const r = settle(await ctx.client().secrets.get(ctx.vaultId, a.path, { cmekKey: ctx.cmekKey }));
      if (!r.ok) return r.outcome;
      const { value, ...meta } = r.data;
      const data = { ...ctx.redactor.deep(meta), value };
      ctx.redactor.rememberWithLines(value);
      return { data, preRedacted: true };
    },
  }),
  tool({
    name: "put_secret",
    description: "Store a new secret or update an existing one. Each call creates a new version. Returns the secret's id (share_secret's secret_id), never the value.",
    inputSchema: {
      path,
      value: ZSecretValue.describe("The secret value"),
      type: ZSecretType.optional().describe("One of: api_key (default), password, private_key, certificate, file, note, ssh_key, env_bundle, generic, env"),
      metadata: ZMetadata.optional().describe("Arbitrary JSON metadata"),
      expires_at: ZIsoDate.optional().describe("ISO 8601 expiry datetime"),
      max_access_count: putShape.max_access_count.describe("Max reads before auto-expiry (0 = unlimited)"),
    },
    readOnly: false,
    async run(ctx, a) {
      ctx.redactor.rememberWithLines(a.value);
      const { path: p, value, type, ...rest } = a;
      return pass(ctx.client().secrets.set(ctx.vaultId, p, value, { type: type ?? "api_key", ...rest, cmekKey: ctx.cmekKey }));
    },
  }),
  tool({
    name: "delete_secret",
    description: "Soft-delete a secret. Reversible by an admin.",
    inputSchema: { path: ZSecretPath.describe("Secret path to delete") },
    readOnly: false,
    destructive: true,
    async run(ctx, a) {
      const r = settle(await ctx.client().secrets.delete(ctx.vaultId, a.path));
      return r.ok ? { data: { deleted: true, path: a.path } } : r.outcome;
    },
  }),
  tool({
    name: "describe_secret",
    description: "Get metadata (id, type, version, expiry) without fetching the value. Use to check existence, or to get the id share_secret needs.",
    inputSchema: { path },
    readOnly: true,
    async run(ctx, a) {
      // The version list and the listing are metadata reads: neither consumes an access count.
      const versions = settle(await ctx.client().secrets.versions(ctx.vaultId, a.path));
      if (!versions.ok) return versions.outcome;
      const latest = versions.data.versions.reduce((x, y) => (y.version > x.version ? y : x));
      const listed = await ctx.client().secrets.list(ctx.vaultId, a.path);
      const summary = listed.data?.secrets.find((s) => s.path === a.path);
      return {
        data: {
          id: summary?.id ?? null,
          path: a.path,
          type: latest.type,
          version: latest.version,
          metadata: latest.metadata,
          created_at: latest.created_at,
          created_by: latest.created_by,
          expires_at: latest.expires_at,
          max_access_count: summary?.max_access_count ?? null,
          is_disabled: latest.is_disabled,
          version_count: versions.data.versions.length,
        },
      };
    },
  }),
  tool({
    name: "rotate_and_store",
    description: "Store a new value for an existing secret, creating a new version. Use after regenerating a key.",
    inputSchema: { path, value: ZSecretValue.describe("New secret value") },
    readOnly: false,
    async run(ctx, a) {
      ctx.redactor.rememberWithLines(a.value);
      return pass(ctx.client().secrets.rotate(ctx.vaultId, a.path, a.value, { cmekKey: ctx.cmekKey }));
    },
  }),
  tool({
    name: "get_env_bundle",
    description: "Fetch an env_bundle secret and parse its KEY=VALUE lines as JSON (needs `read`; with only `use`, `talon run` injects it into a command instead).",
    inputSchema: { path: ZSecretPath.describe("Path to an env_bundle secret") },
    readOnly: false, // a read counts toward max_access_count
    async run(ctx, a) {
      const r = settle(await ctx.client().secrets.get(ctx.vaultId, a.path, { cmekKey: ctx.cmekKey }));
      if (!r.ok) return r.outcome;
      ctx.redactor.rememberWithLines(r.data.value);
      if (r.data.type !== "env_bundle" && r.data.type !== "env") {
        return { error: `${a.path} is a ${r.data.type} secret, not an env_bundle: use get_secret for it.` };
      }
      const parsed = parseEnvBundle(r.data.value);
      if (!parsed.ok) return { error: `${a.path} is not a valid env bundle (${parsed.error}); ask the user to fix it.` };
      for (const v of Object.values(parsed.vars)) ctx.redactor.remember(v);
      return { data: { path: a.path, version: r.data.version, env: parsed.vars }, preRedacted: true };
    },
  }),
  tool({
    name: "create_vault",
    description: "Create a new vault for organizing secrets.",
    inputSchema: {
      name: ZCreateVaultRequest.shape.name.describe("Vault name (1–255 chars)"),
      description: ZCreateVaultRequest.shape.description.describe("Short description"),
    },
    readOnly: false,
    run: (ctx, a) => pass(ctx.client().vaults.create(a), "vault"),
  }),
  tool({
    name: "list_vaults",
    description: "List all vaults accessible to you.",
    inputSchema: {},
    readOnly: true,
    run: (ctx) => pass(ctx.client().vaults.list(), "vault"),
  }),
  tool({
    name: "get_approval_status",
    description:
      "Check a pending approval request (the id from an 'approval required' answer): pending, approved (retry your call now), denied, expired or used. Do not poll in a loop; ask your human.",
    inputSchema: { approval_request_id: ZUuid.describe("The approval request id") },
    readOnly: true,
    run: (ctx, a) => pass(ctx.client().approvals.get(a.approval_request_id), "secret"),
  }),
  tool({
    name: "grant_access",
    description: "Grant a user or agent access to a vault path pattern.",
    inputSchema: {
      vault_id: ZUuid.describe("Vault ID"),
      principal_type: z.enum(PRINCIPAL_TYPES).describe("Who to grant access to"),
      principal_id: ZUuid.describe("The user or agent UUID"),
      permissions: ZCreatePolicyRequest.shape.permissions.describe(
        '["read"] (default), ["write"], ["use"] (Talon uses the value for them — execute_http, talon run — but never returns it; read implies use), or a combination',
      ),
      secret_path_pattern: ZCreatePolicyRequest.shape.secret_path_pattern.describe("Glob pattern for secret paths (default **)"),
    },
    readOnly: false,
    run(ctx, a) {
      const access = ctx.client().access;
      const grant = a.principal_type === "agent" ? access.grantAgent : access.grantHuman;
      return pass(grant(a.vault_id, a.principal_id, a.permissions, { path: a.secret_path_pattern }), "vault");
    },
  }),
  tool({
    name: "share_secret",
    description:
      "Share a secret via link, with your creator, or with a specific user/agent. Targeted shares (creator/user/agent) require the recipient to explicitly accept before access.",
    inputSchema: {
      secret_id: ZUuid.describe("The secret's UUID (from list_secrets or describe_secret)"),
      recipient_type: ZCreateShareRequest.shape.recipient_type.describe(
        "user | agent | anyone_with_link | creator (creator shares with the human who registered this agent — no ID needed)",
      ),
      recipient_id: ZCreateShareRequest.shape.recipient_id.describe("The user or agent UUID; required for user and agent"),
      expires_at: ZCreateShareRequest.shape.expires_at.describe("ISO 8601 expiry"),
      max_access_count: ZCreateShareRequest.shape.max_access_count.describe("Max reads (default 5, 0 = unlimited)"),
      follow_latest: ZCreateShareRequest.shape.follow_latest.describe("true: serve whatever version is current when read; default: the version current now"),
    },
    readOnly: false,
    run(ctx, a) {
      const { secret_id, ...input } = a;
      return pass(ctx.client().sharing.create(secret_id, input));
    },
  }),
  tool({
    name: "simulate_transaction",
    description: "Simulate an EVM transaction on the chain's own node without signing. Returns balance changes, gas estimates, success/revert status.",
    inputSchema: simulateInput,
    readOnly: true,
    async run(ctx, a) {
      const me = await selfId(ctx);
      if (!me.ok) return me.outcome;
      const input = ZSimulateTransactionRequest.parse({ ...a, vault_id: a.signing_key_path?.startsWith("hsm:") ? undefined : ctx.vaultId });
      return pass(ctx.client().agents.simulateTransaction(me.id, input), "transaction");
    },
  }),
  tool({
    name: "submit_transaction",
    description:
      "Submit an EVM transaction for signing and broadcast. Requires crypto_proxy_enabled. Talon checks the guardrails, simulates first (default), signs with a key you never see, and broadcasts.",
    inputSchema: {
      ...simulateInput,
      nonce: txShape.nonce.describe("Transaction nonce (default: auto-resolved)"),
      gas_price: txShape.gas_price.describe("Gas price in wei (legacy mode)"),
      max_fee_per_gas: txShape.max_fee_per_gas.describe("EIP-1559 max fee in wei (triggers Type 2)"),
      max_priority_fee_per_gas: txShape.max_priority_fee_per_gas.describe("EIP-1559 priority fee in wei"),
      simulate_first: txShape.simulate_first.describe("Simulate before signing (default true)"),
      idempotency_key: z.string().min(1).max(255).optional().describe("Retry-safe key: the same key and parameters within 24 h return the first result"),
    },
    readOnly: false,
    destructive: true,
    async run(ctx, a) {
      const me = await selfId(ctx);
      if (!me.ok) return me.outcome;
      const { idempotency_key, ...rest } = a;
      const input = ZSubmitTransactionRequest.parse({ ...rest, vault_id: rest.signing_key_path?.startsWith("hsm:") ? undefined : ctx.vaultId });
      return pass(ctx.client().agents.submitTransaction(me.id, input, { idempotencyKey: idempotency_key }), "transaction");
    },
  }),
  tool({
    name: "list_transactions",
    description: "List this agent's transactions, newest first (status, hash, value; never signed bytes).",
    inputSchema: {
      limit: z.number().int().min(1).max(100).optional().describe("At most this many (default 50)"),
      offset: z.number().int().min(0).max(1_000_000).optional().describe("Skip this many"),
    },
    readOnly: true,
    async run(ctx, a) {
      const me = await selfId(ctx);
      if (!me.ok) return me.outcome;
      return pass(ctx.client().agents.listTransactions(me.id, a), "transaction");
    },
  }),
  tool({
    name: "get_transaction",
    description: "Get one of this agent's transactions by id: status, hash, nonce, guardrail decisions.",
    inputSchema: { transaction_id: ZUuid.describe("The transaction's id (from submit_transaction or list_transactions)") },
    readOnly: true,
    async run(ctx, a) {
      const me = await selfId(ctx);
      if (!me.ok) return me.outcome;
      return pass(ctx.client().agents.getTransaction(me.id, a.transaction_id), "transaction");
    },
  }),
  tool({
    name: "list_bindings",
    description:
      "List the HTTP bindings of the vault you may use: each names a destination (scheme, host, port, path prefix, methods) and how Talon injects a secret into requests you make with execute_http. Never a value.",
    inputSchema: {},
    readOnly: true,
    run: (ctx) => pass(ctx.client().bindings.list(ctx.vaultId), "vault"),
  }),
  tool({
    name: "execute_http",
    description:
      "Make an HTTP request through a binding: Talon injects the binding's secret (bearer, header, query, basic auth or an env_bundle field) and returns {status, headers, body, body_encoding} with every secret value replaced by [REDACTED] — you never see the credential. A binary answer comes back base64 (body_encoding \"base64\"). " +
      "Only the binding's destination, path prefix and methods are allowed; request body up to 48 KiB, answer up to 1 MiB, 15 s timeout. Find bindings with list_bindings.",
    inputSchema: {
      binding: ZExecuteRequest.shape.binding.describe("The binding's name (in this vault) or id"),
      method: ZExecuteRequest.shape.method.describe("HTTP method (default GET); must be one the binding allows"),
      path: ZExecuteRequest.shape.path.describe("Request path under the binding's path_prefix, e.g. /v1/charges (no query string: use query)"),
      query: ZExecuteRequest.shape.query.describe("Query parameters"),
      headers: ZExecuteRequest.shape.headers.describe("Extra request headers (not Host, hop-by-hop headers or the injected one)"),
      body: ZExecuteRequest.shape.body.describe("Request body as text (set Content-Type in headers)"),
    },
    readOnly: false,
    async run(ctx, a) {
      const me = await selfId(ctx);
      if (!me.ok) return me.outcome;
      return pass(ctx.client().agents.execute(me.id, { ...a, vault_id: ctx.vaultId }), "vault");
    },
  }),
  tool({
    name: "list_versions",
    description: "List a secret's versions (type, metadata, created, expiry, disabled) — never values.",
    inputSchema: { path },
    readOnly: true,
    run: (ctx, a) => pass(ctx.client().secrets.versions(ctx.vaultId, a.path)),
  }),
  tool({
    name: "rotate_generate",
    description:
      "Rotate a secret to a new random value generated by the server. The new value is stored as the next version and is NOT returned: it never enters the conversation.",
    inputSchema: {
      path,
      length: z.number().int().min(8).max(1024).optional().describe("Characters to generate (8–1024, default 32)"),
      charset: z.enum(ROTATE_CHARSETS).optional().describe("hex, base64, alphanumeric (default) or ascii"),
    },
    readOnly: false,
    async run(ctx, a) {
      const { path: p, ...options } = a;
      const r = settle(await ctx.client().secrets.rotateGenerate(ctx.vaultId, p, options));
      if (!r.ok) return r.outcome;
      const { value, ...meta } = r.data;
      ctx.redactor.rememberWithLines(value);
      return { data: { rotated: true, ...meta } };
    },
  }),
];
