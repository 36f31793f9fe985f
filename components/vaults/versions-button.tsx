"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { Dialog } from "@/components/ui/dialog";
import { Alert, Badge, cellClass, formatDate, Skeleton, Table } from "@/components/ui/layout";
import { ActionError } from "@/lib/dashboard/action-result";
import { useCmekRevealVersion } from "@/components/cmek/cmek-vault";
import { problemMessage } from "./problem-message";
import type { NamedSecretVersion, SecretActions } from "./types";
import { VersionCompare, VersionView } from "./version-values";

type VersionActions = Pick<SecretActions, "versions" | "disableVersion" | "revealVersion" | "restoreVersion">;
type Props = { vaultId: string; path: string; currentVersion: number; actions: VersionActions };

/** "Versions": the secret's history (metadata, authors by name) with view, compare, restore and disable, in a wide dialog. */
export function VersionsButton(props: Props) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant="ghost" onClick={() => setOpen(true)} aria-label={`Versions of ${props.path}`}>
        Versions
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title={`Versions of ${props.path}`} wide>
        <VersionHistory {...props} />
        <div className="flex justify-end">
          <Button variant="secondary" onClick={() => setOpen(false)}>
            Close
          </Button>
        </div>
      </Dialog>
    </>
  );
}

function VersionHistory({ vaultId, path, currentVersion, actions }: Props) {
  const queryKey = ["secret-versions", vaultId, path];
  const [viewing, setViewing] = useState<number | null>(null);
  const [picked, setPicked] = useState<number[]>([]);
  const [comparing, setComparing] = useState<[number, number] | null>(null);
  // In a customer-key vault old versions are decrypted here, in the browser.
  const revealVersion = useCmekRevealVersion(actions.revealVersion);
  const query = useQuery<{ versions: NamedSecretVersion[] }, ActionError>({
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
  const latest = versions[0]?.version ?? currentVersion;
  const togglePick = (v: number) => setPicked((p) => (p.includes(v) ? p.filter((x) => x !== v) : [...p.slice(-1), v]));
  const pair = [...picked].sort((a, b) => a - b);

  return (
    <div className="flex flex-col gap-4">
      <p className="text-sm text-zinc-400">
        Viewing, comparing and restoring read the versions through the same rules as any read: each is recorded in the audit log and counted against a version&apos;s read limit.
      </p>
      <Table label={`Versions of ${path}`} head={["Version", "Type", "Author", "Created", "Expires", "Status", "Compare", "Actions"]}>
        {versions.map((v) => (
          <tr key={v.version} data-testid="version-row" data-version={v.version}>
            <td className={`${cellClass} whitespace-nowrap tabular-nums`}>
              v{v.version} {v.version === latest && <Badge tone="amber">current</Badge>}
            </td>
            <td className={cellClass}>{v.type}</td>
            <td className={`${cellClass} break-all`} title={v.created_by}>
              {v.created_by_name ?? v.created_by}
            </td>
            <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(v.created_at)}</td>
            <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(v.expires_at)}</td>
            <td className={cellClass}>{v.is_disabled ? <Badge tone="red">disabled</Badge> : <Badge tone="green">enabled</Badge>}</td>
            <td className={cellClass}>
              {!v.is_disabled && (
                <input
                  type="checkbox"
                  className="h-4 w-4 accent-amber-400"
                  checked={picked.includes(v.version)}
                  onChange={() => togglePick(v.version)}
                  aria-label={`Compare version ${v.version}`}
                />
              )}
            </td>
            <td className={cellClass}>
              {!v.is_disabled && (
                <div className="flex flex-wrap gap-1">
                  <Button variant="ghost" onClick={() => setViewing(v.version)} aria-label={`View version ${v.version}`}>
                    View
                  </Button>
                  {v.version !== latest && <RestoreVersion vaultId={vaultId} path={path} version={v.version} latest={latest} restore={actions.restoreVersion} queryKey={queryKey} />}
                  <DisableVersion vaultId={vaultId} path={path} version={v.version} disable={actions.disableVersion} queryKey={queryKey} />
                </div>
              )}
            </td>
          </tr>
        ))}
      </Table>
      <div className="flex flex-wrap items-center gap-3">
        <Button variant="secondary" disabled={pair.length !== 2} onClick={() => setComparing([pair[0]!, pair[1]!])}>
          {pair.length === 2 ? `Compare v${pair[0]} and v${pair[1]}` : "Compare two versions"}
        </Button>
        <span className="text-xs text-zinc-400">Tick two versions; both are read (two audited reads) and compared here, in your browser.</span>
      </div>
      {viewing !== null && <VersionView key={`view-${viewing}`} vaultId={vaultId} path={path} version={viewing} reveal={revealVersion} onClose={() => setViewing(null)} />}
      {comparing && <VersionCompare key={`cmp-${comparing.join("-")}`} vaultId={vaultId} path={path} versions={comparing} reveal={revealVersion} onClose={() => setComparing(null)} />}
    </div>
  );
}

function RestoreVersion({ vaultId, path, version, latest, restore, queryKey }: { vaultId: string; path: string; version: number; latest: number; restore: SecretActions["restoreVersion"]; queryKey: string[] }) {
  const queryClient = useQueryClient();
  return (
    <ConfirmAction
      label="Restore"
      title={`Restore version ${version} of ${path}?`}
      confirmLabel={`Store as version ${latest + 1}`}
      variant="ghost"
      action={restore}
      input={{ vault_id: vaultId, path, version }}
      onSuccess={() => void queryClient.invalidateQueries({ queryKey })}
      describeProblem={problemMessage}
    >
      <p>
        Version {version}&apos;s value, type and metadata are stored again as version {latest + 1}, the new current version. Nothing is overwritten; its expiry and read limit are not carried over. Reading
        version {version} for this counts as one read of it.
      </p>
    </ConfirmAction>
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
