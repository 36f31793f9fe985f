import { Badge, cellClass, EmptyState, formatDate, Table } from "@/components/ui/layout";
import type { DeletedSecret } from "@/lib/contract/secret-transfer";
import { type RestoreDeletedAction, RestoreDeletedButton } from "./restore-deleted-button";

/** Secrets deleted in the restore window, newest delete first, each with Restore (the write rule applies). */
export function DeletedSecrets({ vaultId, secrets, restore }: { vaultId: string; secrets: DeletedSecret[]; restore: RestoreDeletedAction }) {
  if (secrets.length === 0) {
    return <EmptyState title="Nothing deleted recently">Secrets deleted in the last 7 days appear here and can be restored with all their versions.</EmptyState>;
  }
  return (
    <Table label="Recently deleted secrets" head={["Path", "Type", "Version", "Deleted", "Restorable until", "Actions"]}>
      {secrets.map((s) => (
        <tr key={s.id} data-testid="deleted-row" data-path={s.path}>
          <td className={`${cellClass} break-all font-mono text-zinc-100`}>{s.path}</td>
          <td className={cellClass}>
            <Badge>{s.type}</Badge>
          </td>
          <td className={`${cellClass} tabular-nums`}>v{s.version}</td>
          <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(s.deleted_at)}</td>
          <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(s.restorable_until)}</td>
          <td className={cellClass}>
            <RestoreDeletedButton vaultId={vaultId} path={s.path} restore={restore} />
          </td>
        </tr>
      ))}
    </Table>
  );
}
