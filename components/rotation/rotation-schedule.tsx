import Link from "next/link";
import { Badge, cellClass, EmptyState, formatDate, Table } from "@/components/ui/layout";
import { folderHref } from "@/components/vaults/folder-nav";
import type { RotationPolicy, ScheduledRotation } from "@/lib/contract/secrets";

const folderOf = (path: string) => (path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "");

function How({ policy }: { policy: RotationPolicy }) {
  if (!policy.auto_rotate) return <Badge>reminder</Badge>;
  const g = policy.generate ?? {};
  return (
    <span title={`Generates ${g.length ?? 32} ${g.charset ?? "alphanumeric"} characters`}>
      <Badge tone="blue">automatic</Badge>
    </span>
  );
}

/** Secrets with a rotation policy; `label` names the table for screen readers. */
export function RotationTable({ rows, label, emptyTitle, emptyText }: { rows: ScheduledRotation[]; label: string; emptyTitle: string; emptyText: string }) {
  if (rows.length === 0) return <EmptyState title={emptyTitle}>{emptyText}</EmptyState>;
  return (
    <Table label={label} head={["Secret", "Vault", "Every", "Rotation", "Due", "Version"]}>
      {rows.map((r) => (
        <tr key={r.secret_id} data-testid="rotation-row" data-path={r.path}>
          <td className={cellClass}>
            <Link href={folderHref(r.vault_id, folderOf(r.path))} className="block font-mono text-zinc-100 underline-offset-2 hover:underline" title={r.path}>
              {r.path}
            </Link>
            {r.rotation_due && (
              <span className="mt-1 inline-block">
                <Badge tone="amber">rotation due</Badge>
              </span>
            )}
          </td>
          <td className={`${cellClass} text-zinc-300`}>{r.vault_name}</td>
          <td className={`${cellClass} text-zinc-300`}>{r.rotation_policy.interval_days === 1 ? "1 day" : `${r.rotation_policy.interval_days} days`}</td>
          <td className={cellClass}>
            <How policy={r.rotation_policy} />
          </td>
          <td className={`${cellClass} text-zinc-300`}>{formatDate(r.rotation_due_at)}</td>
          <td className={`${cellClass} text-zinc-300`}>v{r.version}</td>
        </tr>
      ))}
    </Table>
  );
}
