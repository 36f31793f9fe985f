import { randomBytes, randomUUID } from "node:crypto";
import type { ApiKeyResponse, CreateApiKeyRequest, CreateApiKeyResponse, TokenResponse } from "../../lib/contract/auth";
import { auditRow } from "../audit/writer";
import { appendAudit } from "../audit/chain";
import { ApiError } from "../http/errors";
import { type Ctx, type Principal, type PublicCtx, requireInteractiveUser, requireUser } from "../http/principal";
import { isUniqueViolation } from "../secrets/repo";
import { authenticateBearer } from "./authenticate";
import { parsePersonalKey, PERSONAL_KEY_PREFIX } from "./personal-key";

const ANONYMOUS = { orgId: "", actorId: "anonymous", actorType: "anonymous" as const };

type ApiKeyRow = {
  id: string;
  name: string;
  keyPrefix: string;
  scopes: string;
  isActive: boolean;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
};
const MASKED_FIELDS = { id: true, name: true, keyPrefix: true, scopes: true, isActive: true, createdAt: true, expiresAt: true, lastUsedAt: true } as const;

function toApiKeyResponse(k: ApiKeyRow): ApiKeyResponse {
  return {
    id: k.id,
    name: k.name,
    key_prefix: k.keyPrefix,
    scopes: JSON.parse(k.scopes) as string[],
    is_active: k.isActive,
    created_at: k.createdAt.toISOString(),
    expires_at: k.expiresAt?.toISOString() ?? null,
    last_used_at: k.lastUsedAt?.toISOString() ?? null,
  };
}

/**
 * Only a signed-in session (a user JWT) can mint keys: a leaked key must not be able to create
 * successors that outlive its own revocation.
 */
export async function createApiKey(anyCtx: Ctx, input: CreateApiKeyRequest): Promise<CreateApiKeyResponse> {
  const ctx = requireInteractiveUser(anyCtx, "Creating an API key");
  const expiresAt = input.expires_at ? new Date(input.expires_at) : null;
  if (expiresAt && expiresAt.getTime() <= Date.now()) throw ApiError.badRequest("expires_at must be in the future", [{ field: "expires_at", message: "must be in the future" }]);
  const scopes = [...new Set(input.scopes ?? [])];
  const { userId, orgId } = ctx.principal;

  // A prefix collision (72 random bits) is practically impossible; one retry covers it anyway.
  for (let attempt = 0; ; attempt++) {
    const key = PERSONAL_KEY_PREFIX + randomBytes(32).toString("base64url");
    const { keyPrefix, hash } = parsePersonalKey(key)!;
    const id = randomUUID();
    try {
      const row = await ctx.rt.db.$transaction(async (tx) => {
        const created = await tx.apiKey.create({
          data: { id, orgId, userId, name: input.name, keyPrefix, keyHash: hash.toString("hex"), scopes: JSON.stringify(scopes), expiresAt },
          select: MASKED_FIELDS,
        });
        await appendAudit(tx, auditRow(ctx, { action: "api_key.create", resourceType: "api_key", resourceId: id, details: { name: input.name, key_prefix: keyPrefix } }));
        return created;
      });
      return { key: toApiKeyResponse(row), api_key: key };
    } catch (e) {
      if (attempt === 0 && isUniqueViolation(e)) continue;
      throw e;
    }
  }
}

export async function listApiKeys(anyCtx: Ctx): Promise<{ keys: ApiKeyResponse[]; api_keys: ApiKeyResponse[] }> {
  const ctx = requireUser(anyCtx);
  const rows = await ctx.rt.db.apiKey.findMany({
    where: { userId: ctx.principal.userId, orgId: ctx.principal.orgId },
    select: MASKED_FIELDS,
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const keys = rows.map(toApiKeyResponse);
  return { keys, api_keys: keys };
}

/** Deletes the row, so the key fails on the very next request. Another user's key is 404. */
export async function revokeApiKey(anyCtx: Ctx, id: string): Promise<void> {
  const ctx = requireUser(anyCtx);
  await ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.apiKey.deleteMany({ where: { id, userId: ctx.principal.userId, orgId: ctx.principal.orgId } });
    if (count === 0) throw ApiError.notFound("API key not found");
    await appendAudit(tx, auditRow(ctx, { action: "api_key.revoke", resourceType: "api_key", resourceId: id }));
  });
}

/**
 * `1ck_` key → a user JWT, after exactly the checks the key gets as a Bearer credential. The JWT
 * lives no longer than the key and is marked as minted from it (`amr`, `akid`); no refresh token,
 * since a key holder can always exchange again.
 */
export async function exchangeApiKey(ctx: PublicCtx, apiKey: string): Promise<TokenResponse> {
  const failure = async () => {
    await ctx.rt.audit.record(ctx, { action: "auth.failure", resourceType: "api_key", resourceId: "", details: { method: "api_key_token" } }, ANONYMOUS);
    return ApiError.unauthorized();
  };
  if (!apiKey.startsWith(PERSONAL_KEY_PREFIX)) throw await failure();
  let principal: Principal | null;
  try {
    principal = await authenticateBearer(ctx.rt, apiKey, { ip: ctx.ip, requestId: ctx.requestId });
  } catch {
    principal = null;
  }
  if (!principal || principal.kind !== "user" || principal.via !== "api_key") throw await failure();
  const [user, key] = await Promise.all([
    ctx.rt.db.user.findUnique({ where: { id: principal.userId }, select: { id: true, orgId: true, tokenVersion: true } }),
    ctx.rt.db.apiKey.findUnique({ where: { id: principal.credentialId }, select: { expiresAt: true } }),
  ]);
  if (!user || !key) throw await failure();
  const untilKeyExpiry = key.expiresAt ? Math.floor((key.expiresAt.getTime() - Date.now()) / 1000) : Infinity;
  const ttl = Math.min(ctx.rt.config.userTokenTtlSeconds, untilKeyExpiry);
  if (ttl < 1) throw await failure();
  const issued = await ctx.rt.tokens.issueApiKeyUserToken(user, principal.credentialId, ttl);
  await ctx.rt.audit.record(
    ctx,
    { action: "auth.success", resourceType: "user", resourceId: user.id, details: { method: "api_key_token", api_key_id: principal.credentialId } },
    { orgId: user.orgId, actorId: `user:${user.id}`, actorType: "user" },
  );
  return { access_token: issued.token, token_type: "Bearer", expires_in: issued.expiresIn };
}
