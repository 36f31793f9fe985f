import { randomBytes, randomUUID } from "node:crypto";
import type { TokenResponse } from "../../lib/contract/auth";
import type { AcceptInvitationRequest, CreateInvitationRequest, InvitationResponse } from "../../lib/contract/org";
import { auditRow } from "../audit/writer";
import { appendAudit } from "../audit/chain";
import { sha256 } from "../crypto/digest";
import { ApiError } from "../http/errors";
import { type Ctx, type OrgRole, type PublicCtx, requireInteractiveUser, requireUser, type UserCtx } from "../http/principal";
import { hashPassword } from "../identity/passwords";
import { removeUnverifiedAccount } from "../identity/signup";
import { issueSession } from "../identity/refresh";
import { log } from "../log";
import { quoteName } from "../mail/quote";
import { isUniqueViolation } from "../secrets/repo";

export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const LIST_LIMIT = 500;

/** Invitation tokens are 32 random bytes: a fast hash is enough, and only the hash is stored. */

const badToken = () =>
  ApiError.badRequest("The invitation token is invalid, expired, revoked or already used", [{ field: "token", message: "invalid, expired, revoked or already used" }]);
const accountExists = () =>
  ApiError.conflict(
    "An account with this email address already exists. A Talon account belongs to exactly one organisation: delete that account (DELETE /v1/auth/me) or sign up with another address, then accept the invitation.",
  );

type InviteRow = { id: string; email: string; role: string; invitedBy: string; expiresAt: Date; acceptedAt: Date | null; createdAt: Date };

function toInvitationResponse(i: InviteRow, now = Date.now()): InvitationResponse {
  return {
    id: i.id,
    email: i.email,
    role: i.role as OrgRole,
    status: i.acceptedAt ? "accepted" : i.expiresAt.getTime() <= now ? "expired" : "pending",
    invited_by: i.invitedBy,
    expires_at: i.expiresAt.toISOString(),
    accepted_at: i.acceptedAt?.toISOString() ?? null,
    created_at: i.createdAt.toISOString(),
  };
}

function requireInviter(anyCtx: Ctx): UserCtx {
  const ctx = requireUser(anyCtx);
  if (ctx.principal.role !== "owner" && ctx.principal.role !== "admin") throw ApiError.forbidden("Only organisation owners and admins can manage invitations");
  return ctx;
}

/**
 * Invites an email address into the caller's org with a role (admins cannot hand out ownership).
 * A new invitation replaces any pending one for the same address. The email goes out before the
 * commit, as at signup: if it cannot be sent, nothing is created.
 */
export async function createInvitation(anyCtx: Ctx, input: CreateInvitationRequest): Promise<InvitationResponse> {
  const ctx = requireInviter(anyCtx);
  requireInteractiveUser(ctx, "Inviting someone");
  const { orgId, userId } = ctx.principal;
  if (input.role === "owner" && ctx.principal.role !== "owner") throw ApiError.forbidden("Only owners can invite another owner");
  // An unverified sign-up does not hold the address: accepting the invitation replaces it.
  if (await ctx.rt.db.user.findFirst({ where: { email: input.email, emailVerifiedAt: { not: null } }, select: { id: true } })) throw accountExists();

  const token = randomBytes(32).toString("base64url");
  const org = await ctx.rt.db.org.findUnique({ where: { id: orgId }, select: { name: true } });
  await sendInvitationEmail(ctx, input.email, org?.name ?? "", token);

  const invite = await ctx.rt.db.$transaction(async (tx) => {
    await tx.orgInvite.deleteMany({ where: { orgId, email: input.email, acceptedAt: null } });
    const created = await tx.orgInvite.create({
      data: {
        id: randomUUID(),
        orgId,
        email: input.email,
        role: input.role,
        tokenHash: sha256(token, "hex"),
        invitedBy: `user:${userId}`,
        expiresAt: new Date(Date.now() + INVITE_TTL_MS),
      },
    });
    await appendAudit(tx, auditRow(ctx, { action: "invite.create", resourceType: "invitation", resourceId: created.id, details: { email: input.email, role: input.role } }));
    return created;
  });
  return toInvitationResponse(invite);
}

async function sendInvitationEmail(ctx: UserCtx, to: string, orgName: string, token: string) {
  // The token travels in the fragment, which browsers never send to a server or write to access logs.
  const link = `${ctx.rt.config.publicUrl}/invite#token=${encodeURIComponent(token)}`;
  const text = [
    `You have been invited to join${orgName ? ` the organisation ${quoteName(orgName)}` : " an organisation"} on Talon.`,
    "",
    "Accept the invitation by opening this link (valid for 7 days):",
    link,
    "",
    "Or send this invitation token, with the password you choose, to POST /v1/org/invitations/accept:",
    token,
    "",
    "If you did not expect this invitation, ignore this message.",
  ].join("\n");
  try {
    await ctx.rt.mailer.send({ to, subject: "You have been invited to Talon", text });
  } catch (e) {
    log.error("invitation email could not be sent", { requestId: ctx.requestId, code: (e as { code?: unknown })?.code ?? "unknown" });
    throw ApiError.unavailable("The invitation email could not be sent; nothing was created. Try again later.");
  }
}

export async function listInvitations(anyCtx: Ctx): Promise<{ invitations: InvitationResponse[] }> {
  const ctx = requireInviter(anyCtx);
  const rows = await ctx.rt.db.orgInvite.findMany({ where: { orgId: ctx.principal.orgId }, orderBy: [{ createdAt: "desc" }, { id: "asc" }], take: LIST_LIMIT });
  const now = Date.now();
  return { invitations: rows.map((r) => toInvitationResponse(r, now)) };
}

/** Revokes a pending invitation: its token stops working at once. Accepted ones are history (409). */
export async function revokeInvitation(anyCtx: Ctx, id: string): Promise<void> {
  const ctx = requireInviter(anyCtx);
  const { orgId } = ctx.principal;
  await ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.orgInvite.deleteMany({ where: { id, orgId, acceptedAt: null } });
    if (count === 0) {
      const accepted = await tx.orgInvite.findFirst({ where: { id, orgId }, select: { id: true } });
      throw accepted ? ApiError.conflict("This invitation has already been accepted; remove the member instead") : ApiError.notFound("Invitation not found");
    }
    await appendAudit(tx, auditRow(ctx, { action: "invite.revoke", resourceType: "invitation", resourceId: id }));
  });
}

/**
 * Creates the invited person's account in the inviting org, with the invited role and the email
 * address counted as verified (the token reached that mailbox), and signs them in. The token is
 * consumed by one conditional update, so two concurrent accepts cannot both win. An address that
 * already has an account is refused (409): accounts belong to exactly one org.
 */
export async function acceptInvitation(ctx: PublicCtx, input: AcceptInvitationRequest): Promise<TokenResponse> {
  return issueSession(ctx.rt, await joinByInvitation(ctx, input));
}

/** The account creation behind `acceptInvitation`, without the API session (the dashboard signs in its own way). */
export async function joinByInvitation(ctx: PublicCtx, input: AcceptInvitationRequest) {
  const invite = await ctx.rt.db.orgInvite.findUnique({
    where: { tokenHash: sha256(input.token, "hex") },
    select: { id: true, orgId: true, email: true, role: true, expiresAt: true, acceptedAt: true },
  });
  if (!invite || invite.acceptedAt || invite.expiresAt.getTime() <= Date.now()) throw badToken();
  if (await ctx.rt.db.user.findFirst({ where: { email: invite.email, emailVerifiedAt: { not: null } }, select: { id: true } })) throw accountExists();
  if (!input.password) throw ApiError.badRequest("A password is required to create your account", [{ field: "password", message: "required (at least 12 characters)" }]);

  const passwordHash = await hashPassword(input.password);
  const userId = randomUUID();
  const now = new Date();
  const actor = { orgId: invite.orgId, actorId: `user:${userId}`, actorType: "user" as const };
  try {
    await ctx.rt.db.$transaction(async (tx) => {
      const { count } = await tx.orgInvite.updateMany({ where: { id: invite.id, acceptedAt: null, expiresAt: { gt: now } }, data: { acceptedAt: now } });
      if (count === 0) throw badToken();
      await removeUnverifiedAccount(tx, invite.email);
      await tx.user.create({
        data: { id: userId, orgId: invite.orgId, email: invite.email, passwordHash, displayName: input.display_name ?? "", role: invite.role, emailVerifiedAt: now },
      });
      await appendAudit(tx, auditRow(ctx, { action: "invite.accept", resourceType: "invitation", resourceId: invite.id, details: { user_id: userId, role: invite.role } }, actor));
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw accountExists();
    throw e;
  }
  return { id: userId, orgId: invite.orgId, tokenVersion: 0 };
}
