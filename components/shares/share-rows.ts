import type { ShareSummary } from "@/lib/contract/shares";

export type { InboundShareRow, OrgShareRow, OutboundShareRow } from "@/lib/contract/shares";

export type ShareStatus = { label: string; tone: "neutral" | "green" | "amber" | "red" };

export const isUsedUp = (s: ShareSummary) => s.max_access_count > 0 && s.access_count >= s.max_access_count;

export function shareStatus(s: ShareSummary, declined = false): ShareStatus {
  if (s.is_ended) return { label: "Ended", tone: "red" };
  if (declined) return { label: "Declined", tone: "red" };
  if (s.is_expired) return { label: "Expired", tone: "neutral" };
  if (isUsedUp(s)) return { label: "Used up", tone: "neutral" };
  if (s.recipient_type === "anyone_with_link") return { label: "Active", tone: "green" };
  return s.is_accepted ? { label: "Accepted", tone: "green" } : { label: "Pending", tone: "amber" };
}

/** Which version a share hands out: the one it was created for, or whatever is current. */
export const versionLabel = (s: ShareSummary) => (s.follow_latest || s.version === null ? "Latest" : `v${s.version}`);

export const readsLabel = (s: ShareSummary) => `${s.access_count} / ${s.max_access_count === 0 ? "unlimited" : s.max_access_count}`;

/** The reveal button's hint: a reveal is a read like any other, and may be the share's last. */
export function revealHint(s: ShareSummary): string {
  if (s.max_access_count === 0) return "Uses one read of this share (no read limit).";
  const left = Math.max(0, s.max_access_count - s.access_count);
  return `Uses one read of this share (${left} of ${s.max_access_count} left).`;
}
