import { randomUUID } from "node:crypto";
import {
  type CreateShareRequest,
  EMAIL_SHARE_MAX_ACCESS_DEFAULT,
  type ShareCreated,
  type ShareListScope,
  type ShareRecipientType,
  type ShareSummary,
  SHARE_MAX_ACCESS_DEFAULT,
  SHARE_MAX_LIFETIME_DAYS,
} from "../../lib/contract/shares";
import { hit } from "../abuse/counters";
import { assertMayReceiveValue } from "../access/evaluate";
import { appendAudit } from "../audit/chain";
import { auditRow } from "../audit/writer";
import { ApiError } from "../http/errors";
import { type Ctx, type Principal, principalId, principalRef, requireUser } from "../http/principal";
import { hashPassword } from "../identity/passwords";
import { assertCanReadSecret } from "../secrets/access";
import { linkTokenHash, mailShareLink, newLinkToken } from "./email";

/**
 * Sharing a secret. Recipients are a user (of any organisation: one outside the sharer's sees it
 * inbound and must accept it, and nobody else in either organisation can read it), an agent of the
 * sharer's org, the human who registered the calling agent (`creator`), an email address (humans
 * only: a mail with a one-time link, server/shares/email.ts) or anyone holding the link. Agents are
 * only ever same-org recipients: an org administers its agents, and another org's could not be
 * audited or revoked by anyone who sees it. The sharer's own read access to the path is checked at
 * creation time and again on every access (server/shares/sharer.ts). A share serves the version that
 * was current when it was created, or — created with `follow_latest` — whatever version is current;
 * it ends for good when the secret is deleted, and otherwise lasts until it expires, is used up or is
 * revoked by its creator or an owner or admin of the sharer's org.
 */
export const SHARE_CREATIONS_PER_MINUTE = 10;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

export type ShareRow = {
  id: string;
  orgId: string;
  secretId: string;
  vaultId: string;
  createdBy: string;
  recipientType: string;
  recipientId: string | null;
  recipientEmail: string | null;
  linkTokenHash: string | null;
  passphraseHash: string | null;
  expiresAt: Date;
  maxAccessCount: number;
  accessCount: number;
  acceptedAt: Date | null;
  declinedAt: Date | null;
  revokedAt: Date | null;
  pinnedVersion: number | null;
  endedAt: Date | null;
  createdAt: Date;
};

/**
 * Where a person should go: the share page, which shows who shared what and reveals only on an explicit
 * click (a link previewer's GET spends no read). Programs use the share's id with `GET /v1/share/{id}`,
 * as the card's `sharing.access(shareId)` does; that route is unchanged.
 */
export const shareUrl = (ctx: Pick<Ctx, "rt">, id: string) => `${ctx.rt.config.publicUrl}/s/${id}`;

type Recipient = { recipientId: string | null; recipientEmail: string | null };

async function resolveRecipient(ctx: Ctx, b: CreateShareRequest): Promise<Recipient> {
  const type = b.recipient_type;
  const orgId = ctx.principal.orgId;
  const only = (...allowed: ("recipient_id" | "email")[]) => {
    for (const field of ["recipient_id", "email"] as const) {
      if (b[field] !== undefined && !allowed.includes(field)) throw ApiError.badRequest(`${field} must be absent for ${type} shares`, [{ field, message: `not allowed for ${type} shares` }]);
    }
  };
  if (type === "anyone_with_link") {
    only();
    return { recipientId: null, recipientEmail: null };
  }
  if (type === "creator") {
    if (ctx.principal.kind !== "agent") throw ApiError.badRequest("recipient_type creator is for agents (it shares with the human who registered the agent); share with a user instead", [{ field: "recipient_type", message: "creator needs an agent caller" }]);
    only();
    return { recipientId: ctx.principal.createdBy, recipientEmail: null };
  }
  if (type === "external_email") {
    if (ctx.principal.kind !== "user") throw ApiError.forbidden("Agents cannot create email shares (a mail sent on an agent's word is a phishing tool); share with your creator instead");
    only("email");
    if (b.email === undefined) throw ApiError.badRequest("email is required for external_email shares", [{ field: "email", message: "required" }]);
    return { recipientId: null, recipientEmail: b.email.toLowerCase() };
  }
  if (type === "agent") {
    only("recipient_id");
    if (b.recipient_id === undefined) throw ApiError.badRequest("recipient_id is required for agent shares", [{ field: "recipient_id", message: "required" }]);
    const agent = await ctx.rt.db.agent.findFirst({ where: { id: b.recipient_id, orgId, isActive: true }, select: { id: true } });
    if (!agent) throw ApiError.badRequest("recipient_id must name an active agent of your organisation", [{ field: "recipient_id", message: "no such recipient in your organisation" }]);
    return { recipientId: agent.id, recipientEmail: null };
  }
  if ((b.recipient_id === undefined) === (b.email === undefined)) {
    throw ApiError.badRequest("user shares name their recipient by recipient_id or by email (exactly one)", [{ field: "recipient_id", message: "give recipient_id or email" }]);
  }
  const user = await ctx.rt.db.user.findFirst({
    where: b.recipient_id !== undefined ? { id: b.recipient_id } : { email: b.email!.toLowerCase() },
    select: { id: true, emailVerifiedAt: true },
  });
  const field = b.recipient_id !== undefined ? "recipient_id" : "email";
  if (!user || !user.emailVerifiedAt) throw ApiError.badRequest(`${field} must name a Talon user`, [{ field, message: "no such user" }]);
  return { recipientId: user.id, recipientEmail: null };
}

function checkExpiry(expiresAt: string): Date {
  const at = new Date(expiresAt);
  const now = Date.now();
  if (at.getTime() <= now) throw ApiError.badRequest("expires_at must be in the future", [{ field: "expires_at", message: "in the past" }]);
  if (at.getTime() > now + SHARE_MAX_LIFETIME_DAYS * DAY_MS) {
    throw ApiError.badRequest(`expires_at must be at most ${SHARE_MAX_LIFETIME_DAYS} days ahead`, [{ field: "expires_at", message: "too far ahead" }]);
  }
  return at;
}

/** The caller's org's secret with its vault and current version, or 404 (another org's secret is indistinguishable from none). */
async function loadSecret(ctx: Ctx, secretId: string) {
  const secret = await ctx.rt.db.secret.findFirst({
    where: { id: secretId, vault: { orgId: ctx.principal.orgId } },
    select: {
      id: true,
      path: true,
      deletedAt: true,
      vault: { select: { id: true, orgId: true, createdBy: true, createdByType: true } },
      versions: { orderBy: { version: "desc" }, take: 1, select: { version: true, type: true } },
    },
  });
  if (!secret) throw ApiError.notFound("Secret not found");
  return secret;
}

export async function createShare(ctx: Ctx, input: { secretId: string; body: CreateShareRequest }): Promise<ShareCreated> {
  const b = input.body;
  const secret = await loadSecret(ctx, input.secretId);
  await assertCanReadSecret(ctx, secret.vault, secret.path);
  const current = secret.versions[0];
  if (secret.deletedAt || !current) throw ApiError.gone("Secret has been deleted");
  // Sharing hands the value on: the sharer must be allowed to receive it in the first place.
  assertMayReceiveValue(ctx.principal, secret.path, current.type);
  const expiresAt = checkExpiry(b.expires_at);
  const { recipientId, recipientEmail } = await resolveRecipient(ctx, b);
  const followLatest = b.follow_latest ?? false;
  const pinnedVersion = followLatest ? null : current.version;
  // Counted only once the request is otherwise valid: a refused share costs no creation.
  const { count, retryAfterSeconds } = await hit(ctx.rt.db, `share-create:${ctx.principal.orgId}`, MINUTE_MS);
  if (count > SHARE_CREATIONS_PER_MINUTE) {
    throw ApiError.tooManyRequests(`At most ${SHARE_CREATIONS_PER_MINUTE} shares may be created per minute per organisation; retry after ${retryAfterSeconds} s`, retryAfterSeconds);
  }
  const passphraseHash = b.passphrase === undefined ? null : await hashPassword(b.passphrase);
  const maxAccessCount = b.max_access_count ?? (recipientEmail ? EMAIL_SHARE_MAX_ACCESS_DEFAULT : SHARE_MAX_ACCESS_DEFAULT);
  const id = randomUUID();
  let tokenHash: string | null = null;
  if (recipientEmail) {
    const token = newLinkToken();
    tokenHash = linkTokenHash(token);
    await mailShareLink(requireUser(ctx), { to: recipientEmail, shareId: id, token, expiresAt, reads: maxAccessCount, passphrase: passphraseHash !== null });
  }
  await ctx.rt.db.$transaction(async (tx) => {
    await tx.share.create({
      data: {
        id,
        orgId: ctx.principal.orgId,
        secretId: secret.id,
        vaultId: secret.vault.id,
        createdBy: principalRef(ctx.principal),
        recipientType: b.recipient_type,
        recipientId,
        recipientEmail,
        linkTokenHash: tokenHash,
        passphraseHash,
        expiresAt,
        maxAccessCount,
        pinnedVersion,
      },
    });
    await appendAudit(
      tx,
      auditRow(ctx, {
        action: "share.create",
        resourceType: "share",
        resourceId: id,
        details: {
          secret_id: secret.id,
          vault_id: secret.vault.id,
          path: secret.path,
          recipient_type: b.recipient_type,
          recipient_id: recipientId,
          recipient_email: recipientEmail,
          max_access_count: maxAccessCount,
          version: pinnedVersion,
          passphrase: passphraseHash !== null,
        },
      }),
    );
  });
  return {
    id,
    share_url: shareUrl(ctx, id),
    recipient_type: b.recipient_type,
    recipient_id: recipientId,
    recipient_email: recipientEmail,
    expires_at: expiresAt.toISOString(),
    max_access_count: maxAccessCount,
    version: pinnedVersion,
    follow_latest: followLatest,
  };
}

/** Whether `ctx`'s principal is the one a targeted share was sent to. */
export function isRecipient(ctx: Pick<Ctx, "principal">, share: Pick<ShareRow, "recipientType" | "recipientId">): boolean {
  const p = ctx.principal;
  if (share.recipientType === "agent") return p.kind === "agent" && p.agentId === share.recipientId;
  if (share.recipientType === "user" || share.recipientType === "creator") return p.kind === "user" && p.userId === share.recipientId;
  return false;
}

async function summaries(ctx: Ctx, rows: ShareRow[]): Promise<{ shares: ShareSummary[] }> {
  const secrets = await ctx.rt.db.secret.findMany({ where: { id: { in: [...new Set(rows.map((r) => r.secretId))] } }, select: { id: true, path: true } });
  const paths = new Map(secrets.map((s) => [s.id, s.path]));
  const now = Date.now();
  return {
    shares: rows.map((r) => ({
      id: r.id,
      secret_path: paths.get(r.secretId) ?? "",
      recipient_type: r.recipientType as ShareRecipientType,
      recipient_id: r.recipientId,
      recipient_email: r.recipientEmail,
      access_count: r.accessCount,
      max_access_count: r.maxAccessCount,
      expires_at: r.expiresAt.toISOString(),
      created_at: r.createdAt.toISOString(),
      is_expired: r.expiresAt.getTime() <= now,
      is_accepted: r.acceptedAt !== null,
      created_by: r.createdBy,
      version: r.pinnedVersion,
      follow_latest: r.pinnedVersion === null,
      is_ended: r.endedAt !== null,
    })),
  };
}

export async function listOutboundShares(ctx: Ctx) {
  const rows = await ctx.rt.db.share.findMany({
    where: { orgId: ctx.principal.orgId, createdBy: principalRef(ctx.principal), revokedAt: null },
    orderBy: { createdAt: "desc" },
  });
  return summaries(ctx, rows);
}

const isOrgAdmin = (p: Principal) => p.kind === "user" && (p.role === "owner" || p.role === "admin");

/** Every live share of the org, whoever created it: owners and admins oversee (and revoke) them all. */
export async function listOrgShares(ctx: Ctx) {
  if (!isOrgAdmin(ctx.principal)) throw ApiError.forbidden("Only org owners and admins can list every share of the organisation; use scope=outbound for yours");
  const rows = await ctx.rt.db.share.findMany({ where: { orgId: ctx.principal.orgId, revokedAt: null }, orderBy: { createdAt: "desc" } });
  return summaries(ctx, rows);
}

export function listShares(ctx: Ctx, scope: ShareListScope) {
  if (scope === "org") return listOrgShares(ctx);
  return scope === "inbound" ? listInboundShares(ctx) : listOutboundShares(ctx);
}

export async function listInboundShares(ctx: Ctx) {
  const p = ctx.principal;
  // A user may be sent shares from other organisations (user ids are global); agents only from their own.
  const to = p.kind === "agent" ? { orgId: p.orgId, recipientType: "agent", recipientId: p.agentId } : { recipientType: { in: ["user", "creator"] }, recipientId: p.userId };
  const rows = await ctx.rt.db.share.findMany({
    where: { revokedAt: null, declinedAt: null, ...to },
    orderBy: { createdAt: "desc" },
  });
  return summaries(ctx, rows);
}

/** Accepting is asking for the value: the recipient must be allowed to receive the version the share serves. */
async function assertMayAccept(ctx: Ctx, share: ShareRow): Promise<void> {
  if (share.endedAt) throw ApiError.gone("This share has ended: the shared secret was deleted");
  const secret = await ctx.rt.db.secret.findFirst({ where: { id: share.secretId, vault: { orgId: share.orgId } }, select: { id: true, path: true, currentVersion: true, deletedAt: true } });
  if (!secret || secret.deletedAt) throw ApiError.gone("This share has ended: the shared secret was deleted");
  const v = await ctx.rt.db.secretVersion.findUnique({
    where: { secretId_version: { secretId: secret.id, version: share.pinnedVersion ?? secret.currentVersion } },
    select: { type: true },
  });
  if (!v) throw ApiError.gone("The shared version no longer exists");
  assertMayReceiveValue(ctx.principal, secret.path, v.type);
}

/** Accept or decline a share sent to the caller. Link shares need neither. */
export async function answerShare(ctx: Ctx, input: { id: string; answer: "accept" | "decline" }): Promise<void> {
  // Not narrowed to the caller's org: a user share may come from another one. Whoever is not its recipient gets 404.
  const share = await ctx.rt.db.share.findFirst({ where: { id: input.id, revokedAt: null } });
  if (!share) throw ApiError.notFound("Share not found");
  if (share.orgId === ctx.principal.orgId && (share.recipientType === "anyone_with_link" || share.recipientType === "external_email")) {
    throw ApiError.badRequest("Link and email shares need no acceptance; open the share URL instead");
  }
  if (!isRecipient(ctx, share)) throw ApiError.notFound("Share not found");
  if (share.expiresAt.getTime() <= Date.now()) throw ApiError.gone("Share has expired");
  if (input.answer === "accept") await assertMayAccept(ctx, share);
  const now = new Date();
  await ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.share.updateMany({
      where: { id: share.id, revokedAt: null },
      data: input.answer === "accept" ? { acceptedAt: now, declinedAt: null } : { declinedAt: now, acceptedAt: null },
    });
    if (count !== 1) throw ApiError.notFound("Share not found");
    await appendAudit(tx, auditRow(ctx, { action: `share.${input.answer}`, resourceType: "share", resourceId: share.id, details: { secret_id: share.secretId } }));
  });
}

/** Revoke: the creator, or an org owner or admin (anyone else gets 404); the share is 404 for everybody at once. */
export async function revokeShare(ctx: Ctx, id: string): Promise<void> {
  const byCreator = isOrgAdmin(ctx.principal) ? {} : { createdBy: principalRef(ctx.principal) };
  await ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.share.updateMany({
      where: { id, orgId: ctx.principal.orgId, ...byCreator, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    if (count !== 1) throw ApiError.notFound("Share not found");
    await appendAudit(tx, auditRow(ctx, { action: "share.revoke", resourceType: "share", resourceId: id, details: { by: principalId(ctx.principal) } }));
  });
}
