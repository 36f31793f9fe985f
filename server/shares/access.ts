import type { SharedSecret } from "../../lib/contract/shares";
import { ApiError } from "../http/errors";
import { type Principal, principalRef, type PublicCtx } from "../http/principal";
import { verifyPassword } from "../identity/passwords";
import { openValue } from "../secrets/read";
import { consumeAccess } from "../secrets/repo";
import { isRecipient, type ShareRow } from "./service";

/**
 * GET /v1/share/{id}: public for link shares, the recipient's token (and a prior accept) for targeted
 * ones. Serves the secret's latest version. The share's count is consumed by one conditional UPDATE,
 * so concurrent readers (on any instance) never get past `max_access_count`; a secret version that has
 * its own read limit is consumed too — a share never widens what the secret allows. The value leaves
 * only after its `share.access` event is durable.
 */
const gone = (why: string) => ApiError.gone(why);

/** One statement: counts the read only while the share is live and under its limit; the new count, or null. */
async function consumeShare(ctx: PublicCtx, id: string): Promise<number | null> {
  const rows = await ctx.rt.db.$queryRaw<{ accessCount: number | bigint }[]>`
    UPDATE "Share" SET "accessCount" = "accessCount" + 1
    WHERE id = ${id} AND "revokedAt" IS NULL AND ("maxAccessCount" = 0 OR "accessCount" < "maxAccessCount")
    RETURNING "accessCount"`;
  return rows.length === 1 ? Number(rows[0]!.accessCount) : null;
}

async function checkReader(share: ShareRow, principal: Principal | undefined, passphrase: string | undefined): Promise<void> {
  if (share.recipientType !== "anyone_with_link") {
    if (!principal) throw ApiError.unauthorized("This share was sent to a specific user or agent: send their token in Authorization");
    if (principal.orgId !== share.orgId || !isRecipient({ principal }, share)) throw ApiError.forbidden("This share was sent to someone else");
    if (share.declinedAt) throw gone("You declined this share");
    if (!share.acceptedAt) throw ApiError.forbidden(`Accept the share first: POST /v1/shares/${share.id}/accept`);
  }
  if (share.passphraseHash !== null) {
    if (passphrase === undefined || passphrase === "") throw ApiError.unauthorized("This share needs a passphrase: send it in the X-Share-Passphrase header");
    // argon2's verify compares in constant time; a wrong passphrase costs the same as a right one.
    if (!(await verifyPassword(share.passphraseHash, passphrase))) throw ApiError.forbidden("Wrong passphrase");
  }
}

async function openLatest(ctx: PublicCtx, share: ShareRow) {
  const secret = await ctx.rt.db.secret.findFirst({
    where: { id: share.secretId, vault: { id: share.vaultId, orgId: share.orgId } },
    select: { id: true, path: true, deletedAt: true, currentVersion: true, vault: { select: { id: true, orgId: true, wrappedKey: true, masterKeyVersion: true, createdBy: true, createdByType: true } } },
  });
  if (!secret || secret.deletedAt) throw gone("The shared secret has been deleted");
  const v = await ctx.rt.db.secretVersion.findUnique({ where: { secretId_version: { secretId: secret.id, version: secret.currentVersion } } });
  if (!v) throw gone("The shared secret has been deleted");
  if (v.isDisabled) throw gone("The shared secret's current version is disabled");
  if (v.expiresAt && v.expiresAt.getTime() <= Date.now()) throw gone("The shared secret has expired");
  if (v.maxAccessCount > 0 && v.accessCount >= v.maxAccessCount) throw gone("The shared secret has reached its own max_access_count");
  const value = await openValue(ctx, secret.vault, secret.id, v);
  return { secret, version: v, value };
}

export async function accessShare(
  ctx: PublicCtx,
  input: { id: string; principal?: Principal; passphrase?: string },
): Promise<SharedSecret> {
  const share = await ctx.rt.db.share.findUnique({ where: { id: input.id } });
  if (!share || share.revokedAt) throw ApiError.notFound("Share not found");
  if (share.expiresAt.getTime() <= Date.now()) throw gone("Share has expired");
  await checkReader(share, input.principal, input.passphrase);
  const exhausted = () => gone(`Share has reached its max_access_count (${share.maxAccessCount} reads)`);
  if (share.maxAccessCount > 0 && share.accessCount >= share.maxAccessCount) throw exhausted();

  // Opened before anything is counted: a blob that fails its integrity check costs no read.
  const { secret, version, value } = await openLatest(ctx, share);
  const accessCount = await consumeShare(ctx, share.id);
  if (accessCount === null) {
    const now = await ctx.rt.db.share.findUnique({ where: { id: share.id }, select: { revokedAt: true } });
    if (!now || now.revokedAt) throw ApiError.notFound("Share not found");
    throw exhausted();
  }
  if (version.maxAccessCount > 0 && !(await consumeAccess(ctx.rt.db, version.id))) throw gone("The shared secret has reached its own max_access_count");

  const actor = input.principal
    ? { orgId: share.orgId, actorId: principalRef(input.principal), actorType: input.principal.kind }
    : { orgId: share.orgId, actorId: "anonymous", actorType: "anonymous" as const };
  await ctx.rt.audit.record(
    ctx,
    { action: "share.access", resourceType: "share", resourceId: share.id, details: { secret_id: secret.id, path: secret.path, version: version.version } },
    actor,
  );
  return {
    id: share.id,
    path: secret.path,
    type: version.type,
    value,
    access_count: accessCount,
    max_access_count: share.maxAccessCount,
    expires_at: share.expiresAt.toISOString(),
  };
}
