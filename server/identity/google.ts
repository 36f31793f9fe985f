import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { createRemoteJWKSet, jwtVerify } from "jose";
import type { LoginResponse } from "../../lib/contract/auth";
import { cleanDisplayName } from "../../lib/contract/names";
import { auditRow } from "../audit/writer";
import { appendAudit } from "../audit/chain";
import { sha256 } from "../crypto/digest";
import { ApiError } from "../http/errors";
import type { PublicCtx } from "../http/principal";
import { isUniqueViolation } from "../secrets/repo";
import { recordAnonymousFailure } from "./failures";
import { completeSignIn } from "./mfa";
import { hashPassword } from "./passwords";
import { revokeUserRefreshTokens } from "./refresh";

/**
 * Google sign-in with an ID token: verified here against the issuer's JWKS (RS256 pinned, issuer,
 * audience = our client id, expiry, and the nonce when the caller sent one), then matched to a user by
 * Google subject, else by (Google-verified) email, else a new account and organisation is created.
 * The API takes a token the client obtained itself; the dashboard gets one through its own
 * authorization-code flow (server/dashboard/google-oidc.ts).
 */
const GOOGLE_ISSUER = "https://accounts.google.com";
const jwksByUrl = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

type GoogleIdentity = { sub: string; email: string; name: string };
export type GoogleUser = { id: string; orgId: string; tokenVersion: number; mfaEnabled: boolean };
const USER_FIELDS = { id: true, orgId: true, tokenVersion: true, mfaEnabled: true, googleSub: true, emailVerifiedAt: true } as const;

function jwksFor(url: string) {
  let jwks = jwksByUrl.get(url);
  if (!jwks) {
    jwks = createRemoteJWKSet(new URL(url));
    jwksByUrl.set(url, jwks);
  }
  return jwks;
}

async function verifyIdToken(ctx: PublicCtx, idToken: string, nonce?: string): Promise<GoogleIdentity> {
  const g = ctx.rt.config.google;
  // Google writes its issuer with and without the scheme; a custom issuer must match exactly.
  const issuer = g.issuer === GOOGLE_ISSUER ? [GOOGLE_ISSUER, "accounts.google.com"] : g.issuer;
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(idToken, jwksFor(g.jwksUrl), { issuer, audience: g.clientId, algorithms: ["RS256"], requiredClaims: ["sub", "exp", "iat"] }));
    // The nonce binds the token to the browser that started the flow (a replayed token has another).
    if (nonce !== undefined && (typeof payload.nonce !== "string" || !timingSafeEqual(sha256(payload.nonce), sha256(nonce)))) throw new Error("nonce");
  } catch {
    await recordAnonymousFailure(ctx, null, { method: "google" });
    throw ApiError.unauthorized("The Google ID token is invalid or expired");
  }
  const { sub, email, name } = payload;
  const verified = payload.email_verified === true || payload.email_verified === "true";
  if (typeof sub !== "string" || sub.length > 255 || typeof email !== "string" || email.length > 254 || !email.includes("@") || !verified) {
    await recordAnonymousFailure(ctx, null, { method: "google", reason: "email_unverified" });
    throw ApiError.forbidden("Google did not vouch for this account's email address (email_verified is not true)");
  }
  return { sub, email: email.trim().toLowerCase(), name: typeof name === "string" ? cleanDisplayName(name) : "" };
}

export async function googleSignIn(ctx: PublicCtx, idToken: string): Promise<LoginResponse> {
  if (!ctx.rt.config.google.clientId) {
    throw ApiError.unavailable("Google sign-in is not configured on this server (set TALON_GOOGLE_CLIENT_ID)");
  }
  return completeSignIn(ctx, await googleUser(ctx, idToken), "google");
}

/**
 * The user a verified ID token names, found or created; MFA is left to the caller. `nonce`, when
 * given, must be the token's `nonce` claim.
 */
export async function googleUser(ctx: PublicCtx, idToken: string, opts: { nonce?: string } = {}): Promise<GoogleUser> {
  return findOrCreateUser(ctx, await verifyIdToken(ctx, idToken, opts.nonce));
}

async function findOrCreateUser(ctx: PublicCtx, identity: GoogleIdentity, retried = false): Promise<GoogleUser> {
  const { db } = ctx.rt;
  const bySub = await db.user.findUnique({ where: { googleSub: identity.sub }, select: USER_FIELDS });
  if (bySub) return bySub;
  const byEmail = await db.user.findUnique({ where: { email: identity.email }, select: USER_FIELDS });
  try {
    if (byEmail) return await linkUser(ctx, byEmail, identity);
    return await createUser(ctx, identity);
  } catch (e) {
    // A concurrent first sign-in created or linked the same account: take what it made.
    if (!retried && isUniqueViolation(e)) return findOrCreateUser(ctx, identity, true);
    throw e;
  }
}

/**
 * Links Google to an existing account with the same address. An account whose address was never
 * verified may have been registered by someone else in advance (pre-hijacking): its password is
 * replaced by an unusable one and its sessions end, so only the Google identity gets in.
 */
async function linkUser(ctx: PublicCtx, user: GoogleUser & { googleSub: string | null; emailVerifiedAt: Date | null }, identity: GoogleIdentity): Promise<GoogleUser> {
  if (user.googleSub !== null) throw ApiError.conflict("This email address is already linked to another Google account");
  const takeover = user.emailVerifiedAt === null;
  const passwordHash = takeover ? await hashPassword(randomBytes(32).toString("base64url")) : undefined;
  return ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.user.updateMany({
      where: { id: user.id, googleSub: null },
      data: { googleSub: identity.sub, ...(takeover ? { emailVerifiedAt: new Date(), passwordHash, tokenVersion: { increment: 1 } } : {}) },
    });
    if (count === 0) throw ApiError.conflict("This account was linked to a Google account by another request; sign in again");
    if (takeover) await revokeUserRefreshTokens(tx, user.id);
    const actor = { orgId: user.orgId, actorId: `user:${user.id}`, actorType: "user" as const };
    await appendAudit(tx, auditRow(ctx, { action: "auth.google_link", resourceType: "user", resourceId: user.id, details: { reset_unverified: takeover } }, actor));
    return { id: user.id, orgId: user.orgId, tokenVersion: user.tokenVersion + (takeover ? 1 : 0), mfaEnabled: user.mfaEnabled };
  });
}

/** A Google-only account gets a random password hash, so password sign-in costs the same and never succeeds. */
async function createUser(ctx: PublicCtx, identity: GoogleIdentity): Promise<GoogleUser> {
  const passwordHash = await hashPassword(randomBytes(32).toString("base64url"));
  const userId = randomUUID();
  const orgId = randomUUID();
  await ctx.rt.db.$transaction(async (tx) => {
    await tx.org.create({ data: { id: orgId, name: identity.name || identity.email } });
    await tx.user.create({
      data: { id: userId, orgId, email: identity.email, passwordHash, displayName: identity.name, role: "owner", emailVerifiedAt: new Date(), googleSub: identity.sub },
    });
    const actor = { orgId, actorId: `user:${userId}`, actorType: "user" as const };
    await appendAudit(tx, auditRow(ctx, { action: "auth.signup", resourceType: "user", resourceId: userId, details: { method: "google" } }, actor));
  });
  return { id: userId, orgId, tokenVersion: 0, mfaEnabled: false };
}
