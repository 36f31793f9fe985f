import type { SharedSecret } from "../../lib/contract/shares";
import { hit, release } from "../abuse/counters";
import { assertMayReceiveValue } from "../access/evaluate";
import { ApiError } from "../http/errors";
import { type Principal, principalRef, type PublicCtx } from "../http/principal";
import { verifyPassword } from "../identity/passwords";
import { openValue } from "../secrets/read";
import { consumeAccess } from "../secrets/repo";
import { linkTokenMatches } from "./email";
import { isRecipient, type ShareRow } from "./service";
import { assertSharerStillReads } from "./sharer";

/**
 * GET /v1/share/{id}: public for link shares, the recipient's token (and a prior accept) for targeted
 * ones. The order matters:
 *   the share is live (404 unknown or revoked; 410 ended, expired)
 *   → the reader is its recipient (targeted shares)
 *   → the version it serves (pinned at creation, or the latest for "follow latest" shares) is readable
 *   → the reader may receive that value (scopes; no raw keys for crypto-proxy agents)
 *   → its sharer still could read it (410 otherwise)
 *   → the passphrase, last, so no Argon2 work is spent on a share that would refuse anyway; wrong
 *     guesses are counted per share, and past the limit even the right one waits for the window
 *   → the value is opened, then the share's count consumed by one conditional UPDATE (concurrent
 *     readers on any instance never get past `max_access_count`), and a version with its own read
 *     limit is consumed too: a share never widens what the secret allows.
 * The value leaves only after its `share.access` event is durable.
 */
export const PASSPHRASE_GUESSES_PER_WINDOW = 5;
const PASSPHRASE_WINDOW_MS = 15 * 60_000;

const gone = (why: string) => ApiError.gone(why);

/** One statement: counts the read only while the share is live and under its limit; the new count, or null. */
async function consumeShare(ctx: PublicCtx, id: string): Promise<number | null> {
  const rows = await ctx.rt.db.$queryRaw<{ accessCount: number | bigint }[]>`
    UPDATE "Share" SET "accessCount" = "accessCount" + 1
    WHERE id = ${id} AND "revokedAt" IS NULL AND "endedAt" IS NULL AND ("maxAccessCount" = 0 OR "accessCount" < "maxAccessCount")
    RETURNING "accessCount"`;
  return rows.length === 1 ? Number(rows[0]!.accessCount) : null;
}

/** The share if it may be served at all: 404 unknown or revoked, 410 ended or expired. */
async function liveShare(ctx: PublicCtx, id: string, reader?: (share: ShareRow) => void): Promise<ShareRow> {
  const share = await ctx.rt.db.share.findUnique({ where: { id } });
  if (!share || share.revokedAt) throw ApiError.notFound("Share not found");
  // Who may read is settled before whether it is still readable: a 410 tells an outsider nothing.
  reader?.(share);
  if (share.endedAt) throw gone("This share has ended: the shared secret was deleted");
  if (share.expiresAt.getTime() <= Date.now()) throw gone("Share has expired");
  return share;
}

/**
 * Link shares: anyone. Email shares: whoever presents the mailed link's token (404 without it, so
 * the share id alone reveals nothing). Targeted shares: their recipient, after accepting — a user
 * share may cross organisations; anyone else of another org gets 404, of the sharer's org 403.
 */
function checkRecipient(share: ShareRow, principal: Principal | undefined, token: string | undefined): void {
  if (share.recipientType === "anyone_with_link") return;
  if (share.recipientType === "external_email") {
    if (!linkTokenMatches(share.linkTokenHash, token)) throw ApiError.notFound("Share not found");
    return;
  }
  if (!principal) throw ApiError.unauthorized("This share was sent to a specific user or agent: send their token in Authorization");
  if (!isRecipient({ principal }, share)) {
    if (principal.orgId !== share.orgId) throw ApiError.notFound("Share not found");
    throw ApiError.forbidden("This share was sent to someone else");
  }
  if (share.declinedAt) throw gone("You declined this share");
  if (!share.acceptedAt) throw ApiError.forbidden(`Accept the share first: POST /v1/shares/${share.id}/accept`);
}

/**
 * At most PASSPHRASE_GUESSES_PER_WINDOW wrong passphrases per share per window, on every instance: a
 * guess is counted (one atomic upsert) *before* Argon2 runs and handed back when it was right, so
 * concurrent guesses cannot slip past the limit between a check and a count.
 */
async function checkPassphrase(ctx: PublicCtx, share: ShareRow, passphrase: string | undefined): Promise<void> {
  if (share.passphraseHash === null) return;
  if (passphrase === undefined || passphrase === "") throw ApiError.unauthorized("This share needs a passphrase: send it in the X-Share-Passphrase header");
  const key = `share-passphrase:${share.id}`;
  const { count, retryAfterSeconds } = await hit(ctx.rt.db, key, PASSPHRASE_WINDOW_MS);
  if (count > PASSPHRASE_GUESSES_PER_WINDOW) {
    throw ApiError.tooManyRequests(`Too many wrong passphrases for this share; retry after ${retryAfterSeconds} s`, retryAfterSeconds);
  }
  // argon2's verify compares in constant time; a wrong passphrase costs the same as a right one.
  if (!(await verifyPassword(share.passphraseHash, passphrase))) throw ApiError.forbidden("Wrong passphrase");
  await release(ctx.rt.db, key, PASSPHRASE_WINDOW_MS);
}

/** The secret a share serves and the version it serves, or 410 (the share ends if the secret was deleted). */
async function servedVersion(ctx: PublicCtx, share: ShareRow) {
  const secret = await ctx.rt.db.secret.findFirst({
    where: { id: share.secretId, vault: { id: share.vaultId, orgId: share.orgId } },
    select: { id: true, path: true, deletedAt: true, currentVersion: true, vault: { select: { id: true, orgId: true, wrappedKey: true, masterKeyVersion: true, createdBy: true, createdByType: true } } },
  });
  if (!secret || secret.deletedAt) {
    // Whatever removed it, the share is over: a path restored later must not revive it.
    await ctx.rt.db.share.updateMany({ where: { id: share.id, endedAt: null }, data: { endedAt: new Date(), endReason: "secret_deleted" } });
    throw gone("This share has ended: the shared secret was deleted");
  }
  const version = share.pinnedVersion ?? secret.currentVersion;
  const v = await ctx.rt.db.secretVersion.findUnique({ where: { secretId_version: { secretId: secret.id, version } } });
  if (!v) throw gone("The shared version no longer exists");
  if (v.isDisabled) throw gone(`Version ${v.version} of the shared secret is disabled`);
  if (v.expiresAt && v.expiresAt.getTime() <= Date.now()) throw gone("The shared secret has expired");
  if (v.maxAccessCount > 0 && v.accessCount >= v.maxAccessCount) throw gone("The shared secret has reached its own max_access_count");
  return { secret, version: v };
}

export async function accessShare(
  ctx: PublicCtx,
  input: { id: string; principal?: Principal; passphrase?: string; token?: string },
): Promise<SharedSecret> {
  const share = await liveShare(ctx, input.id, (row) => checkRecipient(row, input.principal, input.token));
  const { secret, version } = await servedVersion(ctx, share);
  if (input.principal) assertMayReceiveValue(input.principal, secret.path, version.type);
  await assertSharerStillReads(ctx, share, secret.vault, secret.path, version.type);
  await checkPassphrase(ctx, share, input.passphrase);
  const exhausted = () => gone(`Share has reached its max_access_count (${share.maxAccessCount} reads)`);
  if (share.maxAccessCount > 0 && share.accessCount >= share.maxAccessCount) throw exhausted();

  // Opened before anything is counted: a blob that fails its integrity check costs no read.
  const value = await openValue(ctx, secret.vault, secret.id, version);
  const accessCount = await consumeShare(ctx, share.id);
  if (accessCount === null) {
    await liveShare(ctx, share.id);
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
  ctx.rt.metrics.secretRead("share");
  return {
    id: share.id,
    path: secret.path,
    type: version.type,
    value,
    version: version.version,
    access_count: accessCount,
    max_access_count: share.maxAccessCount,
    expires_at: share.expiresAt.toISOString(),
  };
}

/**
 * HEAD /v1/share/{id} (link checkers, previews): whether the link still leads somewhere, answered
 * from the share row alone. It never verifies a passphrase, never opens or counts a read and writes
 * no audit event.
 */
export async function checkShareLink(ctx: PublicCtx, id: string): Promise<void> {
  const share = await liveShare(ctx, id);
  if (share.maxAccessCount > 0 && share.accessCount >= share.maxAccessCount) throw gone(`Share has reached its max_access_count (${share.maxAccessCount} reads)`);
}
