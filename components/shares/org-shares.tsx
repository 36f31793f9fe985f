import { cellClass, EmptyState, formatDate, Table } from "@/components/ui/layout";
import { type RevokeShare, RevokeShareButton } from "./revoke-share-button";
import { type OrgShareRow, readsLabel, shareStatus, versionLabel } from "./share-rows";
import { ShareStatusBadge } from "./share-status-badge";

/** Every live share of the organisation, whoever created it: what owners and admins oversee and can revoke. */
export function OrgShares({ shares, revoke }: { shares: OrgShareRow[]; revoke: RevokeShare }) {
  if (shares.length === 0) {
    return <EmptyState title="No one in your organisation has a live share">Shares created by any member or agent appear here. Revoked shares are not listed.</EmptyState>;
  }
  return (
    <Table label="Org shares" head={["Secret path", "Shared by", "Recipient", "Version", "Expires", "Reads", "Status", <span key="a" className="sr-only">Actions</span>]}>
      {shares.map((s) => (
        <tr key={s.id} data-share-id={s.id}>
          <td className={`${cellClass} font-mono text-zinc-100`}>{s.secret_path}</td>
          <td className={cellClass}>{s.sender_label}</td>
          <td className={cellClass}>{s.recipient_label}</td>
          <td className={`${cellClass} whitespace-nowrap`}>{versionLabel(s)}</td>
          <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(s.expires_at)}</td>
          <td className={`${cellClass} whitespace-nowrap tabular-nums`}>{readsLabel(s)}</td>
          <td className={cellClass}>
            <ShareStatusBadge status={shareStatus(s, s.declined)} />
          </td>
          <td className={`${cellClass} text-right`}>
            <RevokeShareButton id={s.id} path={s.secret_path} recipient={s.recipient_label} revoke={revoke} />
          </td>
        </tr>
      ))}
    </Table>
  );
}
