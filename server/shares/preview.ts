import type { ShareRecipientType } from "../../lib/contract/shares";
import type { PublicCtx } from "../http/principal";
import { checkShareLink } from "./access";

/** What the share page shows before anyone asks for the value. */
export type ShareLinkPreview =
  | { targeted: true; id: string }
  | {
      targeted: false;
      id: string;
      path: string;
      sharer_name: string;
      expires_at: string;
      /** Reads left, or null when the share has no read limit. */
      reads_left: number | null;
      needs_passphrase: boolean;
      /** An email share: Reveal must send the token from the mailed link's fragment. */
      needs_token: boolean;
    };

/**
 * The share page's GET (`/s/{id}`), which link previewers fetch too: answered like HEAD on
 * `/v1/share/{id}` (404 unknown or revoked, 410 ended, expired or used up) from the share's rows
 * alone. It never opens the value, verifies a passphrase, counts a read or writes audit; the value
 * leaves only through the page's explicit Reveal (a POST into `accessShare`, carrying an email share's
 * token from the fragment the server never sees). A share sent to a user
 * or agent shows nothing to a visitor: its recipient reads it from the dashboard, signed in.
 */
export async function previewShareLink(ctx: PublicCtx, id: string): Promise<ShareLinkPreview> {
  await checkShareLink(ctx, id);
  const share = await ctx.rt.db.share.findUniqueOrThrow({
    where: { id },
    select: { id: true, orgId: true, secretId: true, createdBy: true, recipientType: true, expiresAt: true, maxAccessCount: true, accessCount: true, passphraseHash: true },
  });
  const type = share.recipientType as ShareRecipientType;
  if (type !== "anyone_with_link" && type !== "external_email") return { targeted: true, id };
  const secret = await ctx.rt.db.secret.findUnique({ where: { id: share.secretId }, select: { path: true } });
  return {
    targeted: false,
    id,
    path: secret?.path ?? "",
    sharer_name: await sharerName(ctx, share.orgId, share.createdBy),
    expires_at: share.expiresAt.toISOString(),
    reads_left: share.maxAccessCount === 0 ? null : Math.max(0, share.maxAccessCount - share.accessCount),
    needs_passphrase: share.passphraseHash !== null,
    needs_token: type === "external_email",
  };
}

/**
 * The sharer as a link's holder should see them: a member's display name (never their email, which
 * the link would otherwise hand to anyone holding it), an agent's name, looked up in the share's org.
 */
async function sharerName(ctx: PublicCtx, orgId: string, ref: string): Promise<string> {
  const [kind, id] = ref.split(":", 2);
  if (kind === "user" && id) {
    const user = await ctx.rt.db.user.findFirst({ where: { id, orgId }, select: { displayName: true } });
    return user?.displayName.trim() || "A member of the organisation";
  }
  if (kind === "agent" && id) {
    const agent = await ctx.rt.db.agent.findFirst({ where: { id, orgId }, select: { name: true } });
    return agent ? `Agent ${agent.name}` : "An agent of the organisation";
  }
  return "Someone in the organisation";
}
