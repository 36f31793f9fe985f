import { SECRET_INJECTABLE_TYPES, type SecretInjectRequest, type SecretInjectResponse } from "../../lib/contract/secret-use";
import type { SecretType } from "../../lib/contract/secrets";
import { assertMayReceiveValue, assertPathAccess } from "../access/evaluate";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { openValue } from "./read";
import { consumeAccess, findSecretForRead } from "./repo";

const INJECTABLE: readonly string[] = SECRET_INJECTABLE_TYPES;

/**
 * An env_bundle handed to `talon run` for injection into a child process: the read story of
 * `readSecret` (access on the path before existence, disabled, expiry, max_access_count consumed
 * atomically, a durable audit event before the value leaves) with `use` as the operation, so a
 * principal holding `use` but not `read` may run a command with the bundle without ever being
 * answered the value by a read. Audited as `secret.use` with the purpose, never the value.
 */
export async function injectSecret(ctx: Ctx, input: { vaultId: string; path: string; body: SecretInjectRequest }): Promise<SecretInjectResponse> {
  const { vaultId, path } = input;
  const row = await findSecretForRead(ctx.rt.db, ctx.principal.orgId, vaultId, path);
  if (!row) throw ApiError.notFound("Vault not found");
  await assertPathAccess(ctx, row.vault, path, "use");
  const { secret, version: v } = row;
  if (!secret) throw ApiError.notFound("Secret not found; list the vault's secrets to find its path");
  if (secret.deletedAt) throw ApiError.gone("Secret has been deleted");
  if (!v) throw ApiError.notFound("Secret not found");
  if (!INJECTABLE.includes(v.type)) {
    throw new ApiError(422, `${path} is a ${v.type} secret: only env_bundle secrets can be injected into a process (use execute_http to have Talon use other values)`);
  }
  assertMayReceiveValue(ctx.principal, path, v.type);
  if (v.isDisabled) throw ApiError.gone(`Version ${v.version} of this secret is disabled`);
  if (v.expiresAt && v.expiresAt.getTime() <= Date.now()) throw ApiError.gone("Secret has expired; store a new version");
  const exhausted = () => ApiError.gone(`Secret has reached its max_access_count (${v.maxAccessCount} reads); store a new version`);
  if (v.maxAccessCount > 0 && v.accessCount >= v.maxAccessCount) throw exhausted();

  const value = await openValue(ctx, row.vault, secret.id, v);
  if (v.maxAccessCount > 0 && !(await consumeAccess(ctx.rt.db, v.id))) throw exhausted();
  await ctx.rt.audit.record(ctx, {
    action: "secret.use",
    resourceType: "secret",
    resourceId: secret.id,
    details: { vault_id: vaultId, path, version: v.version, purpose: input.body.purpose },
  });
  return { id: secret.id, path, type: v.type as SecretType, version: v.version, value, cmek_encrypted: v.cmekFingerprint !== null };
}
