import { openSecretVersion } from "../crypto/envelope";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { KeystoreIntegrityError } from "../keystore/types";
import { log } from "../log";
import { assertCanReadSecret } from "./access";
import { consumeAccess, findSecretForRead } from "./repo";

const isHexByte = (c: number) => (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

function hexNibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return c - 55;
}

/**
 * The crypto proxy's compat signer: the `private_key` secret at `path`, opened for signing inside
 * Talon and never returned. It is the read story of readSecret (access on the path before existence,
 * expiry, disabled, max_access_count consumed atomically, a durable `secret.read` event with
 * `purpose: tx.sign`) without the value-leaving rule, because the value does not leave: it is turned
 * into the 32 key bytes here, without ever becoming a JS string, and the caller must zero them.
 */
export async function openSigningKeyForSigner(ctx: Ctx, input: { vaultId: string; path: string }): Promise<Uint8Array> {
  const { vaultId, path } = input;
  const row = await findSecretForRead(ctx.rt.db, ctx.principal.orgId, vaultId, path);
  if (!row) throw ApiError.notFound("Vault not found");
  await assertCanReadSecret(ctx, row.vault, path);
  const { secret, version: v } = row;
  const missing = `No signing key at ${path}: store a private_key secret there or generate an HSM key (POST /v1/agents/{id}/signing-keys)`;
  if (!secret || secret.deletedAt || !v) throw new ApiError(422, missing);
  if (v.type !== "private_key") throw new ApiError(422, `The secret at ${path} is not of type private_key`);
  if (v.isDisabled) throw ApiError.gone(`Version ${v.version} of the signing key is disabled`);
  if (v.expiresAt && v.expiresAt.getTime() <= Date.now()) throw ApiError.gone("The signing key has expired; store a new version");
  if (v.maxAccessCount > 0 && !(await consumeAccess(ctx.rt.db, v.id))) {
    throw ApiError.gone(`The signing key has reached its max_access_count (${v.maxAccessCount} uses)`);
  }

  let plain: Buffer | undefined;
  const key = new Uint8Array(32);
  try {
    const vaultKey = await ctx.rt.vaultKeys.vaultKey(row.vault);
    try {
      plain = openSecretVersion(vaultKey, { vaultId, secretId: secret.id, version: v.version }, v.ciphertext);
    } finally {
      vaultKey.fill(0);
    }
    let end = plain.length;
    while (end > 0 && (plain[end - 1] === 0x0a || plain[end - 1] === 0x0d || plain[end - 1] === 0x20)) end--;
    const trimmed = plain.subarray(0, end);
    // Validated byte by byte: a regex over a string copy would leave the key in the JS heap.
    const offset = end === 66 && trimmed[0] === 0x30 && (trimmed[1] === 0x78 || trimmed[1] === 0x58) ? 2 : 0;
    const ok = end - offset === 64 && trimmed.subarray(offset).every(isHexByte);
    if (!ok) throw new ApiError(422, `The private_key secret at ${path} is not a 32-byte hex key`);
    for (let i = 0; i < 32; i++) key[i] = (hexNibble(trimmed[offset + 2 * i]!) << 4) | hexNibble(trimmed[offset + 2 * i + 1]!);
  } catch (e) {
    key.fill(0);
    if (!(e instanceof KeystoreIntegrityError)) throw e;
    log.error("signing key integrity check failed", { requestId: ctx.requestId, vaultId, resourceId: secret.id, version: v.version });
    throw new ApiError(500, `The stored signing key failed its integrity check and was not used. Quote request id ${ctx.requestId}.`);
  } finally {
    plain?.fill(0);
  }
  await ctx.rt.audit.record(ctx, {
    action: "secret.read",
    resourceType: "secret",
    resourceId: secret.id,
    details: { vault_id: vaultId, path, version: v.version, purpose: "tx.sign" },
  });
  return key;
}
