import Link from "next/link";
import { cellClass, EmptyState, formatDate, Table } from "@/components/ui/layout";
import { type RevokeShare, RevokeShareButton } from "./revoke-share-button";
import { type OutboundShareRow, readsLabel, shareStatus, versionLabel } from "./share-rows";
import { ShareStatusBadge } from "./share-status-badge";

export function OutboundShares({ shares, revoke }: { shares: OutboundShareRow[]; revoke: RevokeShare }) {
  if (shares.length === 0) {
    return (
      <EmptyState title="You have not shared any secrets" action={<Link href="/vaults" className="text-sm font-semibold text-amber-300 hover:text-amber-200">Go to vaults</Link>}>
        Share a secret from its vault page, with a user or agent of your organisation or with anyone holding the link. Revoked shares are not listed.
      </EmptyState>
    );
  }
  return (
    <Table label="Outbound shares" head={["Secret path", "Recipient", "Version", "Expires", "Reads", "Status", <span key="a" className="sr-only">Actions</span>]}>
      {shares.map((s) => (
        <tr key={s.id} data-share-id={s.id}>
          <td className={`${cellClass} font-mono text-zinc-100`}>{s.secret_path}</td>
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
