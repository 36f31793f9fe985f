import { type CreateShare, ShareSecretButton, type ShareRecipients } from "@/components/shares/share-secret-button";
import { Badge, cellClass, formatDate, Table } from "@/components/ui/layout";
import { RevealSecret } from "./reveal-secret";
import { DeleteSecretButton, EditSecretButton } from "./secret-dialogs";
import type { SecretActions, SecretRow } from "./types";
import { VersionsButton } from "./versions-button";

/** Why the current version cannot be read, if it cannot (the same reasons the API answers 410 for). */
export function unreadableReason(s: SecretRow, now: number): string | null {
  if (s.disabled) return "disabled";
  if (s.expires_at && Date.parse(s.expires_at) <= now) return "expired";
  if (s.max_access_count > 0 && s.access_count >= s.max_access_count) return "used up";
  return null;
}

/** The secrets directly in the folder being browsed: metadata only; values appear only through Reveal. */
export function SecretTable({
  vaultId,
  prefix,
  secrets,
  actions,
  share,
  now,
}: {
  vaultId: string;
  prefix: string;
  secrets: SecretRow[];
  actions: SecretActions;
  /** The Share action and whom it can go to; null where sharing is not offered (the system vault). */
  share: { recipients: ShareRecipients; create: CreateShare } | null;
  now: number;
}) {
  return (
    <Table label="Secrets" head={["Path", "Value", "Type", "Version", "Expires", "Reads", "Updated", "Actions"]}>
      {secrets.map((s) => {
        const reason = unreadableReason(s, now);
        return (
          <tr key={s.id} data-testid="secret-row" data-path={s.path}>
            <td className={cellClass}>
              <span className="block font-mono text-zinc-100" title={s.path}>
                {s.path.slice(prefix.length)}
              </span>
              {prefix && <span className="block font-mono text-xs text-zinc-500">{s.path}</span>}
              {reason && (
                <span className="mt-1 inline-block">
                  <Badge tone="red">{reason}</Badge>
                </span>
              )}
              {s.rotation_due && (
                <span className="mt-1 inline-block" title={s.rotation_due_at ? `Due since ${formatDate(s.rotation_due_at)}` : undefined}>
                  <Badge tone="amber">rotation due</Badge>
                </span>
              )}
            </td>
            <td className={cellClass}>
              <RevealSecret key={`${s.path}@${s.version}`} vaultId={vaultId} path={s.path} reveal={actions.reveal} accessCount={s.access_count} maxAccessCount={s.max_access_count} />
            </td>
            <td className={cellClass}>
              <Badge>{s.type}</Badge>
            </td>
            <td className={`${cellClass} tabular-nums`}>v{s.version}</td>
            <td className={`${cellClass} whitespace-nowrap ${reason === "expired" ? "text-red-300" : "text-zinc-400"}`}>{s.expires_at ? formatDate(s.expires_at) : "never"}</td>
            <td className={`${cellClass} whitespace-nowrap tabular-nums text-zinc-400`}>
              {s.max_access_count > 0 ? `${s.access_count} / ${s.max_access_count}` : "unlimited"}
            </td>
            <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(s.created_at)}</td>
            <td className={cellClass}>
              <div className="flex flex-wrap gap-1">
                <VersionsButton vaultId={vaultId} path={s.path} currentVersion={s.version} actions={actions} />
                {share && <ShareSecretButton secretId={s.id} path={s.path} recipients={share.recipients} create={share.create} />}
                <EditSecretButton vaultId={vaultId} put={actions.put} secret={s} />
                <DeleteSecretButton vaultId={vaultId} path={s.path} remove={actions.remove} />
              </div>
            </td>
          </tr>
        );
      })}
    </Table>
  );
}
