import { randomUUID } from "node:crypto";
import type { AgentResponse, AgentSelfResponse, CreateAgentRequest, CreateAgentResponse, UpdateAgentRequest } from "../../lib/contract/agents";
import type { Agent } from "../../generated/sqlite/client";
import { auditRow } from "../audit/writer";
import { assertResourceLimit } from "../billing/limits";
import { appendAudit } from "../audit/chain";
import { ApiError } from "../http/errors";
import type { Tx } from "../db";
import { type Ctx, requireInteractiveUser, requireUser, type UserCtx } from "../http/principal";
import { log } from "../log";
import { destroySigningKeyObjects, signingKeysToDestroy } from "../intents/key-objects";
import { putManagedSecret } from "../secrets/service";
import { systemVault } from "../vaults/service";
import { agentEcdhKeyPath, agentKeyPath } from "../access/system-vault";
import { generateEcdhKeyPair, storeEcdhPrivateKey, withEcdhKeys } from "./ecdh-keys";
import { newAgentKey } from "./api-keys";
import { toAgentResponse, toAgentSelfResponse } from "./records";
import { generateSshKeyPair } from "./ssh-keys";

/** Why an agent stopped working when the member who registered it left the org. */
const REMOVED_MEMBER_REASON = "registered by a removed member";
const MANUAL_REASON = "deactivated manually";

const notFound = () => ApiError.notFound("Agent not found");
const bad = (field: string, message: string) => ApiError.badRequest(`${field}: ${message}`, [{ field, message }]);

async function loadAgent(ctx: Ctx, id: string): Promise<Agent> {
  const agent = await ctx.rt.db.agent.findFirst({ where: { id, orgId: ctx.principal.orgId } });
  if (!agent) throw notFound();
  return agent;
}

/** Changing an agent is for humans: an org owner or admin, or whoever registered it. */
function assertCanManage(anyCtx: Ctx, agent: Agent): UserCtx {
  if (anyCtx.principal.kind === "agent") throw ApiError.forbidden("Agents cannot change their own flags or guardrails");
  const ctx = requireUser(anyCtx);
  const p = ctx.principal;
  if (p.role === "owner" || p.role === "admin" || agent.createdBy === p.userId) return ctx;
  throw ApiError.forbidden("Only an org owner or admin, or the agent's creator, can change this agent");
}

function futureDate(field: string, iso: string | null | undefined): Date | null | undefined {
  if (iso === undefined || iso === null) return iso;
  const d = new Date(iso);
  if (d.getTime() <= Date.now()) throw bad(field, "must be in the future");
  return d;
}

async function checkVaultIds(ctx: Ctx, ids: string[] | undefined): Promise<string[] | undefined> {
  if (ids === undefined) return undefined;
  const unique = [...new Set(ids)];
  // Talon's system vault is no place to bind an agent to.
  const found = await ctx.rt.db.vault.count({ where: { orgId: ctx.principal.orgId, isSystem: false, id: { in: unique } } });
  if (found !== unique.length) throw bad("vault_ids", "every id must be a vault of your organisation");
  return unique;
}

function checkIssuer(ctx: Ctx, issuer: string | undefined) {
  if (issuer !== undefined && !ctx.rt.config.oidcAllowedIssuers.includes(issuer)) {
    throw bad("oidc_issuer", "is not an allowed issuer (the server's TALON_OIDC_ALLOWED_ISSUERS)");
  }
}

const cryptoFlag = (i: { crypto_proxy_enabled?: boolean; intents_api_enabled?: boolean }) => i.crypto_proxy_enabled ?? i.intents_api_enabled;
/** The `_eth` field or its alias (the contract refused them disagreeing); `null` clears. */
const maxValue = (i: { tx_max_value_eth?: string | null; tx_max_value?: string | null }) => (i.tx_max_value_eth !== undefined ? i.tx_max_value_eth : i.tx_max_value);
const dailyLimit = (i: { tx_daily_limit_eth?: string | null; tx_daily_limit?: string | null }) => (i.tx_daily_limit_eth !== undefined ? i.tx_daily_limit_eth : i.tx_daily_limit);

/** A new owner for an agent must be a person of the agent's org. */
async function checkNewCreator(ctx: Ctx, userId: string | undefined): Promise<string | undefined> {
  if (userId === undefined) return undefined;
  const p = ctx.principal;
  if (p.kind !== "user" || (p.role !== "owner" && p.role !== "admin")) throw ApiError.forbidden("Only an org owner or admin can reassign an agent to another member");
  const member = await ctx.rt.db.user.findFirst({ where: { id: userId, orgId: p.orgId }, select: { id: true } });
  if (!member) throw bad("created_by", "must be a member of your organisation");
  return userId;
}

export async function createAgent(anyCtx: Ctx, input: CreateAgentRequest): Promise<CreateAgentResponse> {
  const ctx = requireInteractiveUser(anyCtx, "Registering an agent");
  const expiresAt = futureDate("expires_at", input.expires_at) ?? null;
  const vaultIds = (await checkVaultIds(ctx, input.vault_ids)) ?? [];
  checkIssuer(ctx, input.oidc_issuer);

  const id = randomUUID();
  const ssh = generateSshKeyPair(`talon-agent-${id}`);
  // The private key is sealed and stored first (HSM work, outside any transaction); if registering
  // the agent then fails, the orphaned key is removed again.
  const vault = await systemVault(ctx);
  const { secretId } = await putManagedSecret(ctx, vault, agentKeyPath(id), ssh.privateKey, "ssh_key");
  const ecdh = generateEcdhKeyPair();
  const keySecretIds = [secretId];
  const key = input.auth_method === "api_key" ? newAgentKey() : null;
  try {
    keySecretIds.push(await storeEcdhPrivateKey(ctx, id, ecdh.privateKey));
    const agent = await ctx.rt.db.$transaction(async (tx) => {
      await assertResourceLimit(tx, ctx, "agent");
      // Under the org lock the limit check took: a member removed meanwhile registers nothing that
      // would escape the deactivation of their agents.
      if (!(await tx.user.findFirst({ where: { id: ctx.principal.userId, orgId: ctx.principal.orgId }, select: { id: true } }))) throw ApiError.unauthorized();
      const a = await tx.agent.create({
        data: {
          id,
          orgId: ctx.principal.orgId,
          name: input.name,
          description: input.description ?? "",
          authMethod: input.auth_method,
          scopes: JSON.stringify([...new Set(input.scopes ?? [])]),
          vaultIds: JSON.stringify(vaultIds),
          expiresAt,
          tokenTtlSeconds: input.token_ttl_seconds ?? null,
          cryptoProxyEnabled: cryptoFlag(input) ?? false,
          txToAllowlist: JSON.stringify([...new Set(input.tx_to_allowlist ?? [])]),
          txMaxValueEth: maxValue(input) ?? null,
          txDailyLimitEth: dailyLimit(input) ?? null,
          txAllowedChains: JSON.stringify([...new Set(input.tx_allowed_chains ?? [])]),
          clientCertFingerprint: input.client_cert_fingerprint ?? null,
          oidcIssuer: input.oidc_issuer ?? null,
          oidcClientId: input.oidc_client_id ?? null,
          sshPublicKey: ssh.publicKey,
          ecdhPublicKey: ecdh.publicKey,
          keyPrefix: key?.keyPrefix ?? null,
          keyHash: key?.keyHash ?? null,
          createdBy: ctx.principal.userId,
        },
      });
      await appendAudit(tx, auditRow(ctx, { action: "agent.register", resourceType: "agent", resourceId: id, details: { name: input.name, auth_method: input.auth_method } }));
      return a;
    });
    return { agent: toAgentResponse(agent), ...(key ? { api_key: key.key } : {}) };
  } catch (e) {
    // In a transaction of its own: on SQLite a plain statement runs on the one connection inside whatever
    // interactive transaction is open, and would vanish with it if that one (another refused registration) rolls back.
    await ctx.rt.db
      .$transaction((tx) => tx.secret.deleteMany({ where: { id: { in: keySecretIds } } }))
      .catch((err: unknown) => log.warn("could not remove an orphaned agent key", { requestId: ctx.requestId, error: err instanceof Error ? err.name : "unknown" }));
    throw e;
  }
}

export async function listAgents(anyCtx: Ctx): Promise<{ agents: AgentResponse[] }> {
  const ctx = requireUser(anyCtx);
  const rows = await ctx.rt.db.agent.findMany({ where: { orgId: ctx.principal.orgId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  return { agents: (await withEcdhKeys(ctx, rows)).map(toAgentResponse) };
}

/** Humans see any agent of their org; an agent sees only itself. */
export async function getAgent(ctx: Ctx, id: string): Promise<AgentResponse> {
  const agent = await loadAgent(ctx, id);
  if (ctx.principal.kind === "agent" && ctx.principal.agentId !== id) throw ApiError.forbidden("An agent can only read its own record");
  const [withKeys] = await withEcdhKeys(ctx, [agent]);
  return toAgentResponse(withKeys!);
}

export async function getAgentSelf(ctx: Ctx): Promise<AgentSelfResponse> {
  if (ctx.principal.kind !== "agent") throw ApiError.forbidden("/v1/agents/me is for agents; humans use GET /v1/auth/me");
  const [agent, keys] = await Promise.all([
    loadAgent(ctx, ctx.principal.agentId),
    ctx.rt.db.vault.findFirst({ where: { orgId: ctx.principal.orgId, isSystem: true }, select: { id: true } }),
  ]);
  const [withKeys] = await withEcdhKeys(ctx, [agent]);
  // The system vault is never listed: this is how an agent finds its own SSH and ECDH private keys.
  return toAgentSelfResponse(withKeys!, keys ? { vault_id: keys.id, path: agentKeyPath(agent.id) } : null, keys ? { vault_id: keys.id, path: agentEcdhKeyPath(agent.id) } : null);
}

/**
 * A change to what the agent's tokens carry or allow (scopes, vault binding, crypto flag) or a
 * deactivation bumps its token version, so every token issued before fails on its next use.
 */
export async function updateAgent(anyCtx: Ctx, id: string, input: UpdateAgentRequest): Promise<AgentResponse> {
  const current = await loadAgent(anyCtx, id);
  const ctx = assertCanManage(anyCtx, current);
  const vaultIds = await checkVaultIds(ctx, input.vault_ids);
  const createdBy = await checkNewCreator(ctx, input.created_by);
  const expiresAt = futureDate("expires_at", input.expires_at);
  const crypto = cryptoFlag(input);
  const killsTokens = input.is_active === false || input.scopes !== undefined || vaultIds !== undefined || crypto !== undefined;
  const list = (v: string[] | undefined) => (v === undefined ? undefined : JSON.stringify([...new Set(v)]));
  const changed = Object.keys(input).filter((k) => input[k as keyof UpdateAgentRequest] !== undefined);
  const deactivating = input.is_active === false && current.isActive;
  // Reactivating clears the reason; deactivating records one; anything else leaves it as it is.
  const deactivatedReason = input.is_active === true ? null : deactivating ? MANUAL_REASON : undefined;

  const agent = await ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.agent.updateMany({
      where: { id, orgId: ctx.principal.orgId },
      data: {
        isActive: input.is_active,
        deactivatedReason,
        createdBy,
        name: input.name,
        description: input.description,
        scopes: list(input.scopes),
        expiresAt,
        cryptoProxyEnabled: crypto,
        txToAllowlist: list(input.tx_to_allowlist),
        txMaxValueEth: maxValue(input),
        txDailyLimitEth: dailyLimit(input),
        txAllowedChains: list(input.tx_allowed_chains),
        tokenTtlSeconds: input.token_ttl_seconds,
        vaultIds: list(vaultIds),
        ...(killsTokens ? { tokenVersion: { increment: 1 } } : {}),
      },
    });
    if (count !== 1) throw notFound();
    await appendAudit(tx, auditRow(ctx, {
      action: deactivating ? "agent.deactivate" : "agent.update",
      resourceType: "agent",
      resourceId: id,
      details: { fields: changed.join(","), tokens_revoked: killsTokens, ...(createdBy ? { created_by: createdBy } : {}) },
    }));
    return tx.agent.findUniqueOrThrow({ where: { id } });
  });
  const [withKeys] = await withEcdhKeys(ctx, [agent]);
  return toAgentResponse(withKeys!);
}

/**
 * Deletes the agent, its policies, (soft) its SSH key and (for good) its HSM signing keys; its tokens
 * and key fail from the next request. The agent row is locked before its signing keys are read, so a
 * key created concurrently is either read here or fails its own insert (and destroys itself).
 */
export async function deleteAgent(anyCtx: Ctx, id: string): Promise<void> {
  const ctx = assertCanManage(anyCtx, await loadAgent(anyCtx, id));
  const orgId = ctx.principal.orgId;
  const signingKeys = await ctx.rt.db.$transaction(async (tx) => {
    if (ctx.rt.dialect === "postgres") await tx.$queryRaw`SELECT "id" FROM "Agent" WHERE "id" = ${id} FOR UPDATE`;
    const keys = await signingKeysToDestroy(tx, { orgId, agentId: id });
    const { count } = await tx.agent.deleteMany({ where: { id, orgId } });
    if (count !== 1) throw notFound();
    await tx.policy.deleteMany({ where: { orgId, principalType: "agent", principalId: id } });
    await tx.secret.updateMany({
      where: { path: agentKeyPath(id), deletedAt: null, vault: { orgId, isSystem: true } },
      data: { deletedAt: new Date() },
    });
    await appendAudit(tx, auditRow(ctx, { action: "agent.delete", resourceType: "agent", resourceId: id, details: { hsm_signing_keys: keys.length } }));
    return keys;
  });
  await destroySigningKeyObjects(ctx.rt, signingKeys, { agent_id: id });
}

/** A new `ocv_` key; the old key and every token issued with it fail at once. */
export async function rotateAgentKey(anyCtx: Ctx, id: string): Promise<{ api_key: string }> {
  const agent = await loadAgent(anyCtx, id);
  assertCanManage(anyCtx, agent);
  const ctx = requireInteractiveUser(anyCtx, "Rotating an agent's key");
  if (agent.authMethod !== "api_key") throw ApiError.badRequest(`This agent authenticates with ${agent.authMethod}; it has no API key to rotate`);
  const key = newAgentKey();
  await ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.agent.updateMany({
      where: { id, orgId: ctx.principal.orgId },
      data: { keyPrefix: key.keyPrefix, keyHash: key.keyHash, tokenVersion: { increment: 1 } },
    });
    if (count !== 1) throw notFound();
    await appendAudit(tx, auditRow(ctx, { action: "agent.rotate_key", resourceType: "agent", resourceId: id }));
  });
  return { api_key: key.key };
}

/**
 * When a member leaves the org, the agents they registered stop working in the same transaction: a
 * key handed out by someone no longer in the org must not keep reaching its secrets. Their tokens
 * die on the next request (token version); an owner or admin may reassign or reactivate them.
 */
export async function deactivateAgentsRegisteredBy(tx: Tx, ctx: Ctx, userId: string): Promise<number> {
  const where = { orgId: ctx.principal.orgId, createdBy: userId, isActive: true };
  const agents = await tx.agent.findMany({ where, select: { id: true } });
  if (agents.length === 0) return 0;
  await tx.agent.updateMany({ where: { ...where, id: { in: agents.map((a) => a.id) } }, data: { isActive: false, deactivatedReason: REMOVED_MEMBER_REASON, tokenVersion: { increment: 1 } } });
  for (const a of agents) {
    await appendAudit(tx, auditRow(ctx, { action: "agent.deactivate", resourceType: "agent", resourceId: a.id, details: { reason: REMOVED_MEMBER_REASON, tokens_revoked: true } }));
  }
  return agents.length;
}
