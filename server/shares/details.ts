import type { InboundShareRow, OrgShareRow, OutboundShareRow, ShareSummary } from "../../lib/contract/shares";
import type { Ctx } from "../http/principal";
import { principalNames } from "../org/principal-names";

/**
 * The list summaries the API returns, plus what this page shows beside them: who sent a share, who
 * it went to (by email or agent name), whether it was declined and whether it needs a passphrase.
 * Only shares the services already listed for the caller are looked up, inside the caller's org.
 */
export async function describeShares(
  ctx: Ctx,
  outbound: ShareSummary[],
  inbound: ShareSummary[],
  org: ShareSummary[] = [],
): Promise<{ outbound: OutboundShareRow[]; inbound: InboundShareRow[]; org: OrgShareRow[] }> {
  const ids = [...new Set([...outbound, ...inbound, ...org].map((s) => s.id))];
  const rows = ids.length
    ? // Not narrowed to the caller's org: an inbound user share may come from another one; every id here was listed for the caller.
      await ctx.rt.db.share.findMany({ where: { id: { in: ids } }, select: { id: true, createdBy: true, declinedAt: true, passphraseHash: true } })
    : [];
  const extra = new Map(rows.map((r) => [r.id, { createdBy: r.createdBy, declined: r.declinedAt !== null, needsPassphrase: r.passphraseHash !== null }]));
  const recipientRef = (s: ShareSummary) => (s.recipient_type === "agent" ? `agent:${s.recipient_id}` : `user:${s.recipient_id}`);
  const names = await principalNames(ctx, [...rows.map((r) => r.createdBy), ...[...outbound, ...org].filter((s) => s.recipient_id).map(recipientRef)]);

  const label = (ref: string) => {
    const [kind, id] = ref.split(":", 2) as [string, string | undefined];
    const name = names.get(ref) ?? id ?? ref;
    return kind === "agent" ? `${name} (agent)` : name;
  };
  const recipient = (s: ShareSummary) => {
    if (s.recipient_type === "external_email") return `${s.recipient_email ?? "?"} (email)`;
    if (s.recipient_type === "anyone_with_link" || !s.recipient_id) return "Anyone with the link";
    const name = label(recipientRef(s));
    return s.recipient_type === "creator" ? `${name} (agent's creator)` : name;
  };
  const sender = (s: ShareSummary) => {
    const e = extra.get(s.id);
    return e ? label(e.createdBy) : "Unknown";
  };
  return {
    outbound: outbound.map((s) => ({ ...s, recipient_label: recipient(s), declined: extra.get(s.id)?.declined ?? false })),
    inbound: inbound.map((s) => ({ ...s, sender_label: sender(s), needs_passphrase: extra.get(s.id)?.needsPassphrase ?? false })),
    org: org.map((s) => ({ ...s, sender_label: sender(s), recipient_label: recipient(s), declined: extra.get(s.id)?.declined ?? false })),
  };
}
