import { randomBytes, timingSafeEqual } from "node:crypto";
import { sha256 } from "../crypto/digest";
import { ApiError } from "../http/errors";
import type { UserCtx } from "../http/principal";
import { log } from "../log";
import { quoteName } from "../mail/quote";

/**
 * `external_email` shares: the recipient has no account, so the share's link itself is the
 * credential. It carries 32 random bytes of which only the SHA-256 is stored (`Share.linkTokenHash`);
 * the token travels in the URL fragment (never sent to a server, a log or a Referer) and comes back
 * in the share page's POST body or, for programs, the `X-Share-Token` header — never a query string.
 * The sharer's own answer has the share page without the token: only the mailbox holds it.
 */
export const newLinkToken = () => randomBytes(32).toString("base64url");
export const linkTokenHash = (token: string) => sha256(token, "hex");

/** Constant-time comparison of a presented token with the stored hash; a missing token never matches. */
export function linkTokenMatches(storedHash: string | null, token: string | undefined): boolean {
  if (!storedHash || !token) return false;
  const a = Buffer.from(linkTokenHash(token), "hex");
  const b = Buffer.from(storedHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

export const emailShareLink = (publicUrl: string, shareId: string, token: string) => `${publicUrl}/s/${shareId}#token=${encodeURIComponent(token)}`;

async function sharerDisplayName(ctx: UserCtx): Promise<string> {
  const user = await ctx.rt.db.user.findUnique({ where: { id: ctx.principal.userId }, select: { displayName: true } });
  return user?.displayName.trim() || "A Talon user";
}

/**
 * Mails the link before the share exists: a mail that cannot be sent leaves nothing behind (503),
 * and a link mailed for a share whose insert then fails leads to a 404, never to a value.
 */
export async function mailShareLink(ctx: UserCtx, input: { to: string; shareId: string; token: string; expiresAt: Date; reads: number; passphrase: boolean }) {
  const reads = input.reads === 0 ? "as often as you need until it expires" : input.reads === 1 ? "once" : `${input.reads} times`;
  const text = [
    `${quoteName(await sharerDisplayName(ctx))} shared a secret with you on Talon.`,
    "",
    `Open it with this link, which works ${reads} and until ${input.expiresAt.toISOString()}:`,
    emailShareLink(ctx.rt.config.publicUrl, input.shareId, input.token),
    ...(input.passphrase ? ["", "The sender also set a passphrase; they will tell you it separately."] : []),
    "",
    "Opening the page reveals nothing by itself: the secret is shown only when you click Reveal. If you did not expect this, ignore this message.",
  ].join("\n");
  try {
    await ctx.rt.mailer.send({ to: input.to, subject: "A secret was shared with you on Talon", text });
  } catch (e) {
    log.error("share email could not be sent", { requestId: ctx.requestId, code: (e as { code?: unknown })?.code ?? "unknown" });
    throw ApiError.unavailable("The share email could not be sent; nothing was created. Try again later.");
  }
}
