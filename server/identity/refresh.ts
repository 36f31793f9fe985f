import { randomBytes, randomUUID } from "node:crypto";
import type { TokenResponse } from "../../lib/contract/auth";
import { auditRow } from "../audit/writer";
import { appendAudit } from "../audit/chain";
import { sha256 } from "../crypto/digest";
import type { Db, Tx } from "../db";
import { ApiError } from "../http/errors";
import type { PublicCtx } from "../http/principal";
import type { Runtime } from "../runtime";

/**
 * Rotating refresh tokens: 32 random bytes (base64url), stored only as their SHA-256, valid 30 days.
 * Each use marks the token used (one conditional update) and hands out a successor in the same
 * family. Presenting a used or revoked token means it was copied: the whole family is revoked, so
 * both the thief's and the owner's chains end and the owner has to sign in again.
 */
export const REFRESH_TTL_MS = 30 * 24 * 60 * 60 * 1000;
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

const invalid = () => ApiError.unauthorized("The refresh token is invalid, expired or revoked; sign in again");

type SessionUser = { id: string; orgId: string; tokenVersion: number };

/** Stores a new refresh token (in `familyId`, or a new family) and returns it. */
export async function createRefreshToken(db: Db | Tx, userId: string, familyId: string = randomUUID()): Promise<string> {
  const token = randomBytes(32).toString("base64url");
  await db.refreshToken.create({
    data: { id: randomUUID(), userId, familyId, tokenHash: sha256(token, "hex"), expiresAt: new Date(Date.now() + REFRESH_TTL_MS) },
  });
  return token;
}

/**
 * An access token plus a refresh token starting a new family: what every completed sign-in returns.
 * The access token names its family, so signing out with it ends the family too.
 */
export async function issueSession(rt: Runtime, user: SessionUser): Promise<TokenResponse> {
  const familyId = randomUUID();
  const access = await rt.tokens.issueUserToken(user, familyId);
  const refresh = await createRefreshToken(rt.db, user.id, familyId);
  return { access_token: access.token, token_type: "Bearer", expires_in: access.expiresIn, refresh_token: refresh };
}

/** Sign-out: the refresh tokens of that one session (its family) stop working; the user's other sessions go on. */
export async function revokeRefreshFamily(db: Db | Tx, userId: string, familyId: string): Promise<number> {
  const { count } = await db.refreshToken.updateMany({ where: { familyId, userId, revokedAt: null }, data: { revokedAt: new Date() } });
  return count;
}

/** Password change, account takeover clean-up: every refresh token of the user stops working. */
export async function revokeUserRefreshTokens(db: Db | Tx, userId: string): Promise<void> {
  await db.refreshToken.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: new Date() } });
}

export async function refreshSession(ctx: PublicCtx, token: string): Promise<TokenResponse> {
  const { db } = ctx.rt;
  if (!TOKEN_FORMAT.test(token)) throw invalid();
  const row = await db.refreshToken.findUnique({
    where: { tokenHash: sha256(token, "hex") },
    select: { id: true, familyId: true, expiresAt: true, usedAt: true, revokedAt: true, user: { select: { id: true, orgId: true, tokenVersion: true, emailVerifiedAt: true } } },
  });
  if (!row) throw invalid();
  const { user } = row;
  const actor = { orgId: user.orgId, actorId: `user:${user.id}`, actorType: "user" as const };
  const failure = (reason: string) => ctx.rt.audit.record(ctx, { action: "auth.failure", resourceType: "user", resourceId: user.id, details: { method: "refresh", reason } }, actor);

  if (row.usedAt || row.revokedAt) {
    await revokeFamily(ctx, row.familyId, actor, user.id);
    throw invalid();
  }
  if (row.expiresAt.getTime() <= Date.now() || !user.emailVerifiedAt) {
    await failure(user.emailVerifiedAt ? "expired" : "email_unverified");
    throw invalid();
  }
  // Rotation and the successor in one transaction; losing the race for `usedAt` is a reuse too.
  const successor = await db.$transaction(async (tx) => {
    const { count } = await tx.refreshToken.updateMany({ where: { id: row.id, usedAt: null, revokedAt: null }, data: { usedAt: new Date() } });
    if (count === 0) return null;
    const next = await createRefreshToken(tx, user.id, row.familyId);
    await appendAudit(tx, auditRow(ctx, { action: "auth.success", resourceType: "user", resourceId: user.id, details: { method: "refresh" } }, actor));
    return next;
  });
  if (successor === null) {
    await revokeFamily(ctx, row.familyId, actor, user.id);
    throw invalid();
  }
  const access = await ctx.rt.tokens.issueUserToken(user, row.familyId);
  return { access_token: access.token, token_type: "Bearer", expires_in: access.expiresIn, refresh_token: successor };
}

async function revokeFamily(ctx: PublicCtx, familyId: string, actor: { orgId: string; actorId: string; actorType: "user" }, userId: string) {
  await ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: new Date() } });
    await appendAudit(tx, auditRow(ctx, { action: "auth.refresh_reuse", resourceType: "user", resourceId: userId, details: { family_id: familyId, tokens_revoked: count } }, actor));
  });
}
