import { randomBytes, randomUUID } from "node:crypto";
import { sha256 } from "../crypto/digest";
import { ApiError } from "../http/errors";
import type { OrgRole, PublicCtx, UserPrincipal } from "../http/principal";
import { userActor } from "../identity/service";
import type { Runtime } from "../runtime";
import type { SessionSummary } from "../../lib/dashboard/sessions";

/**
 * Dashboard sessions. Every browser sign-in (password, password + TOTP, passkey) ends in a
 * `UserSession` row; the next-auth cookie only names it. A session is valid while the row is neither
 * revoked nor expired and the user's token version is the one it began with, so signing out, changing
 * the password or deleting the account ends it on the very next request, and a stolen cookie stops
 * working at sign-out, unlike a bare JWT cookie.
 *
 * Between our own checks (in server actions) and next-auth's cookie sits a sign-in ticket: a random
 * single-use value, stored hashed, valid for a minute, that the `ticket` credentials provider
 * exchanges for the session. It never leaves the server (the action that mints it calls `signIn`).
 */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const TICKET_TTL_MS = 60_000;
/** lastSeenAt is refreshed at most this often (a write per page view would be waste). */
const SEEN_RESOLUTION_MS = 5 * 60_000;
const TICKET_PURPOSE = "signin_ticket:";

export type SignInMethod = "password" | "password+totp" | "password+recovery_code" | "passkey" | "google" | "google+totp" | "google+recovery_code";
export type SessionClient = { ip: string; userAgent: string };

/** A ticket for `userId`, to be redeemed by `redeemTicket` within a minute. */
export async function mintTicket(rt: Pick<Runtime, "db">, userId: string, method: SignInMethod): Promise<string> {
  const ticket = randomBytes(32).toString("base64url");
  await rt.db.emailToken.create({
    data: { id: randomUUID(), userId, purpose: TICKET_PURPOSE + method, tokenHash: sha256(ticket, "hex"), expiresAt: new Date(Date.now() + TICKET_TTL_MS) },
  });
  return ticket;
}

/**
 * Consumes a ticket (one conditional update: a second redemption finds it used) and opens the session.
 * Returns the session id, or null for an unknown, used or expired ticket.
 */
export async function redeemTicket(ctx: PublicCtx, ticket: string, userAgent: string): Promise<string | null> {
  if (typeof ticket !== "string" || ticket.length === 0 || ticket.length > 128) return null;
  const tokenHash = sha256(ticket, "hex");
  const row = await ctx.rt.db.emailToken.findUnique({ where: { tokenHash }, select: { id: true, userId: true, purpose: true } });
  if (!row || !row.purpose.startsWith(TICKET_PURPOSE)) return null;
  const claimed = await ctx.rt.db.emailToken.updateMany({ where: { id: row.id, usedAt: null, expiresAt: { gt: new Date() } }, data: { usedAt: new Date() } });
  if (claimed.count !== 1) return null;
  const user = await ctx.rt.db.user.findUnique({ where: { id: row.userId }, select: { id: true, orgId: true, tokenVersion: true } });
  if (!user) return null;
  const method = row.purpose.slice(TICKET_PURPOSE.length);
  const id = randomUUID();
  await ctx.rt.db.userSession.create({
    data: {
      id,
      userId: user.id,
      method,
      tokenVersion: user.tokenVersion,
      ip: ctx.ip.slice(0, 64),
      userAgent: userAgent.slice(0, 256),
      expiresAt: new Date(Date.now() + SESSION_TTL_MS),
    },
  });
  await ctx.rt.audit.record(ctx, { action: "auth.success", resourceType: "user", resourceId: user.id, details: { method, via: "dashboard" } }, userActor(user));
  return id;
}

/** The signed-in user behind a session id, or null when the session is over. One query. */
export async function resolveSession(rt: Pick<Runtime, "db">, sessionId: string): Promise<UserPrincipal | null> {
  if (typeof sessionId !== "string" || sessionId.length > 64) return null;
  const s = await rt.db.userSession.findUnique({
    where: { id: sessionId },
    select: { revokedAt: true, expiresAt: true, tokenVersion: true, lastSeenAt: true, user: { select: { id: true, orgId: true, role: true, tokenVersion: true, emailVerifiedAt: true } } },
  });
  const now = Date.now();
  if (!s || s.revokedAt || s.expiresAt.getTime() <= now || s.tokenVersion !== s.user.tokenVersion || !s.user.emailVerifiedAt) return null;
  if (now - s.lastSeenAt.getTime() > SEEN_RESOLUTION_MS) {
    await rt.db.userSession.updateMany({ where: { id: sessionId, lastSeenAt: s.lastSeenAt }, data: { lastSeenAt: new Date(now) } });
  }
  return {
    kind: "user",
    userId: s.user.id,
    orgId: s.user.orgId,
    role: s.user.role as OrgRole,
    via: "session",
    credentialId: sessionId,
    expiresAt: Math.floor(s.expiresAt.getTime() / 1000),
  };
}

/** Ends one session (sign-out). Idempotent. */
export async function revokeSession(rt: Pick<Runtime, "db">, sessionId: string): Promise<void> {
  await rt.db.userSession.updateMany({ where: { id: sessionId, revokedAt: null }, data: { revokedAt: new Date() } });
}

/** The user's live sessions, newest first (the account page lists them). */
export async function listSessions(rt: Pick<Runtime, "db">, principal: UserPrincipal): Promise<SessionSummary[]> {
  const rows = await rt.db.userSession.findMany({
    where: { userId: principal.userId, revokedAt: null, expiresAt: { gt: new Date() } },
    orderBy: { createdAt: "desc" },
    take: 50,
  });
  return rows.map((r) => ({
    id: r.id,
    method: r.method,
    ip: r.ip,
    user_agent: r.userAgent,
    created_at: r.createdAt.toISOString(),
    last_seen_at: r.lastSeenAt.toISOString(),
    current: r.id === principal.credentialId,
  }));
}

/** Ends one of the caller's own sessions; another user's session id is 404. */
export async function revokeOwnSession(rt: Pick<Runtime, "db">, principal: UserPrincipal, sessionId: string): Promise<void> {
  const r = await rt.db.userSession.updateMany({ where: { id: sessionId, userId: principal.userId, revokedAt: null }, data: { revokedAt: new Date() } });
  if (r.count !== 1) throw ApiError.notFound("Session not found");
}
