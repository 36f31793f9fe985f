import { cellClass, formatDate, Table } from "@/components/ui/layout";
import { type RevokeShare, RevokeShareButton } from "./revoke-share-button";
import { type OutboundShareRow, readsLabel, shareStatus, versionLabel } from "./share-rows";
import { ShareStatusBadge } from "./share-status-badge";

/**
 * Shares the viewer can revoke, one row each: their own (outbound) or, for owners and admins, the
 * whole organisation's, which adds a "Shared by" column (rows then carry `sender_label`).
 */
export function SharesTable({ label, shares, revoke, sharedBy = false }: { label: string; shares: (OutboundShareRow & { sender_label?: string })[]; revoke: RevokeShare; sharedBy?: boolean }) {
  const head = ["Secret path", ...(sharedBy ? ["Shared by"] : []), "Recipient", "Version", "Expires", "Reads", "Status", <span key="a" className="sr-only">Actions</span>];
  return (
    <Table label={label} head={head}>
      {shares.map((s) => (
        <tr key={s.id} data-share-id={s.id}>
          <td className={`${cellClass} font-mono text-zinc-100`}>{s.secret_path}</td>
          {sharedBy && <td className={cellClass}>{s.sender_label}</td>}
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
