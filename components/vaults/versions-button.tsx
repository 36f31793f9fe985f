"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { Dialog } from "@/components/ui/dialog";
import { Alert, Badge, cellClass, formatDate, Skeleton, Table } from "@/components/ui/layout";
import type { SecretVersionSummary } from "@/lib/contract/secrets";
import { ActionError } from "@/lib/dashboard/action-result";
import { problemMessage } from "./problem-message";
import type { SecretActions } from "./types";

type Props = { vaultId: string; path: string; currentVersion: number; actions: Pick<SecretActions, "versions" | "disableVersion"> };

/** "Versions": the secret's versions (metadata only) with a way to disable one, in a dialog. */
export function VersionsButton(props: Props) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant="ghost" onClick={() => setOpen(true)} aria-label={`Versions of ${props.path}`}>
        Versions
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title={`Versions of ${props.path}`}>
        <VersionList {...props} />
        <div className="flex justify-end">
          <Button variant="secondary" onClick={() => setOpen(false)}>
            Close
          </Button>
        </div>
      </Dialog>
    </>
  );
}

function VersionList({ vaultId, path, currentVersion, actions }: Props) {
  const queryKey = ["secret-versions", vaultId, path];
  const query = useQuery<{ versions: SecretVersionSummary[] }, ActionError>({
    queryKey,
    queryFn: async () => {
      const r = await actions.versions({ vault_id: vaultId, path });
      if (!r.ok) throw new ActionError(r.problem);
      return r.data;
    },
    staleTime: 0,
  });
  if (query.isPending) return <Skeleton rows={2} />;
  if (query.error) return <Alert>{problemMessage(query.error.problem)}</Alert>;
  const versions = [...query.data.versions].reverse();
  return (
    <Table label={`Versions of ${path}`} head={["Version", "Type", "Created", "Expires", "Status", "Actions"]}>
      {versions.map((v) => (
        <tr key={v.version}>
          <td className={`${cellClass} tabular-nums`}>
            v{v.version} {v.version === currentVersion && <Badge tone="amber">current</Badge>}
          </td>
          <td className={cellClass}>{v.type}</td>
          <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>
            {formatDate(v.created_at)}
            <span className="block max-w-40 truncate text-xs text-zinc-500" title={v.created_by}>
              {v.created_by}
            </span>
          </td>
          <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(v.expires_at)}</td>
          <td className={cellClass}>{v.is_disabled ? <Badge tone="red">disabled</Badge> : <Badge tone="green">enabled</Badge>}</td>
          <td className={cellClass}>
            {!v.is_disabled && <DisableVersion vaultId={vaultId} path={path} version={v.version} disable={actions.disableVersion} queryKey={queryKey} />}
          </td>
        </tr>
      ))}
    </Table>
  );
}

function DisableVersion({ vaultId, path, version, disable, queryKey }: { vaultId: string; path: string; version: number; disable: SecretActions["disableVersion"]; queryKey: string[] }) {
  const queryClient = useQueryClient();
  return (
    <ConfirmAction
      label="Disable"
      title={`Disable version ${version} of ${path}?`}
      confirmLabel="Disable version"
      variant="ghost"
      action={disable}
      input={{ vault_id: vaultId, path, version }}
      onSuccess={() => void queryClient.invalidateQueries({ queryKey })}
      describeProblem={problemMessage}
    >
      <p>Reads of this version will answer 410 Gone. A disabled version cannot be enabled again; if it is the current version, the secret cannot be read until a new version is stored.</p>
    </ConfirmAction>
  );
}
