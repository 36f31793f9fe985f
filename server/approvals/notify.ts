import { quoteName } from "../mail/quote";
import { log } from "../log";
import type { Ctx } from "../http/principal";

/**
 * Mail about approvals to the humans who can act on them: the vault's creator (when a person) and the
 * org's owners, minus `except`. Sent after the answer is decided and never failing it: a mail server
 * that is down must not turn a 403 into a 500. Only names, paths and ids travel: never a value.
 */
export async function vaultOwnerEmails(ctx: Ctx, vault: { id: string; createdBy: string; createdByType: string } | null, except?: string): Promise<string[]> {
  const orgId = ctx.principal.orgId;
  const users = await ctx.rt.db.user.findMany({
    where: {
      orgId,
      emailVerifiedAt: { not: null },
      OR: [{ role: "owner" }, ...(vault && vault.createdByType === "user" ? [{ id: vault.createdBy }] : [])],
    },
    select: { id: true, email: true },
    take: 50,
  });
  return users.filter((u) => u.id !== except).map((u) => u.email);
}

export async function mailMany(ctx: Ctx, to: string[], subject: string, lines: string[]): Promise<void> {
  const text = lines.join("\n");
  await Promise.all(
    to.map(async (addr) => {
      try {
        await ctx.rt.mailer.send({ to: addr, subject, text });
      } catch (e) {
        log.warn("approval mail could not be sent", { requestId: ctx.requestId, error: e instanceof Error ? e.name : "unknown" });
      }
    }),
  );
}

export const quoted = (s: string) => quoteName(s);
