import { cellClass, EmptyState, formatDate, Table } from "@/components/ui/layout";
import { type AnswerShare, AnswerShareButtons } from "./answer-share-buttons";
import { type RevealShare, RevealShareButton } from "./reveal-share-button";
import { type InboundShareRow, isUsedUp, readsLabel, revealHint, shareStatus } from "./share-rows";
import { ShareStatusBadge } from "./share-status-badge";

function Actions({ share, answer, reveal }: { share: InboundShareRow; answer: AnswerShare; reveal: RevealShare }) {
  if (share.is_ended || share.is_expired || isUsedUp(share)) return <span className="text-xs text-zinc-500">No longer readable</span>;
  if (!share.is_accepted) return <AnswerShareButtons id={share.id} path={share.secret_path} answer={answer} />;
  return <RevealShareButton id={share.id} path={share.secret_path} hint={revealHint(share)} needsPassphrase={share.needs_passphrase} reveal={reveal} />;
}

export function InboundShares({ shares, answer, reveal }: { shares: InboundShareRow[]; answer: AnswerShare; reveal: RevealShare }) {
  if (shares.length === 0) {
    return <EmptyState title="No shares sent to you">When someone in your organisation shares a secret with you, it appears here to accept or decline.</EmptyState>;
  }
  return (
    <Table label="Inbound shares" head={["Sender", "Secret path", "Expires", "Reads", "Status", <span key="a" className="sr-only">Actions</span>]}>
      {shares.map((s) => (
        <tr key={s.id} data-share-id={s.id}>
          <td className={cellClass}>{s.sender_label}</td>
          <td className={`${cellClass} font-mono text-zinc-100`}>{s.secret_path}</td>
          <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(s.expires_at)}</td>
          <td className={`${cellClass} whitespace-nowrap tabular-nums`}>{readsLabel(s)}</td>
          <td className={cellClass}>
            <ShareStatusBadge status={shareStatus(s)} />
          </td>
          <td className={cellClass}>
            <Actions share={s} answer={answer} reveal={reveal} />
          </td>
        </tr>
      ))}
    </Table>
  );
}
