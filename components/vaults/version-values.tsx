"use client";
import { useQuery } from "@tanstack/react-query";
import { useCallback } from "react";
import { lineDiff } from "@/components/secrets/line-diff";
import { useAutoHide } from "@/components/secrets/use-auto-hide";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { Alert, Skeleton } from "@/components/ui/layout";
import { ActionError } from "@/lib/dashboard/action-result";
import { problemMessage } from "./problem-message";
import type { RevealedSecret, SecretActions } from "./types";

type Reveal = SecretActions["revealVersion"];

/**
 * Reads versions once when mounted (each an audited read); never cached after unmount, never refetched
 * on focus, so one click is one read. The values are dropped when the panel closes or hides itself.
 */
function useVersionValues(vaultId: string, path: string, versions: number[], reveal: Reveal) {
  return useQuery<RevealedSecret[], ActionError>({
    queryKey: ["secret-version-values", vaultId, path, ...versions],
    queryFn: () =>
      Promise.all(
        versions.map(async (version) => {
          const r = await reveal({ vault_id: vaultId, path, version });
          if (!r.ok) throw new ActionError(r.problem);
          return r.data;
        }),
      ),
    gcTime: 0,
    staleTime: Infinity,
    retry: false,
    refetchOnWindowFocus: false,
  });
}

function Panel({ title, onClose, children, testId }: { title: string; onClose: () => void; children: React.ReactNode; testId: string }) {
  const close = useCallback(() => onClose(), [onClose]);
  const left = useAutoHide(true, close);
  return (
    <section aria-label={title} data-testid={testId} className="flex flex-col gap-2 rounded-lg border border-zinc-700 p-3">
      <div className="flex items-center justify-between gap-2">
        <h3 className="text-sm font-semibold text-zinc-100">{title}</h3>
        <span className="text-xs text-zinc-400">Hides in {left} s</span>
      </div>
      {children}
      <div className="flex justify-end">
        <Button variant="ghost" onClick={close}>
          Hide
        </Button>
      </div>
    </section>
  );
}

export function VersionView({ vaultId, path, version, reveal, onClose }: { vaultId: string; path: string; version: number; reveal: Reveal; onClose: () => void }) {
  const q = useVersionValues(vaultId, path, [version], reveal);
  return (
    <Panel title={`Version ${version}`} onClose={onClose} testId="version-value">
      {q.isPending ? (
        <Skeleton rows={1} />
      ) : q.error ? (
        <Alert>{problemMessage(q.error.problem)}</Alert>
      ) : (
        <>
          <pre className="max-h-48 overflow-auto whitespace-pre-wrap break-all rounded-md bg-zinc-950 px-2 py-1.5 font-mono text-xs text-zinc-100">{q.data[0]!.value}</pre>
          <div>
            <CopyButton value={q.data[0]!.value} />
          </div>
        </>
      )}
    </Panel>
  );
}

const LINE_STYLE = { same: "text-zinc-300", removed: "bg-red-500/15 text-red-200", added: "bg-emerald-500/15 text-emerald-200" } as const;
const LINE_MARK = { same: " ", removed: "-", added: "+" } as const;

export function VersionCompare({ vaultId, path, versions, reveal, onClose }: { vaultId: string; path: string; versions: [number, number]; reveal: Reveal; onClose: () => void }) {
  const q = useVersionValues(vaultId, path, versions, reveal);
  const [a, b] = versions;
  return (
    <Panel title={`Changes from v${a} to v${b}`} onClose={onClose} testId="version-diff">
      {q.isPending ? (
        <Skeleton rows={2} />
      ) : q.error ? (
        <Alert>{problemMessage(q.error.problem)}</Alert>
      ) : (
        <pre className="max-h-64 overflow-auto rounded-md bg-zinc-950 py-1.5 font-mono text-xs">
          {lineDiff(q.data[0]!.value, q.data[1]!.value).map((l, i) => (
            <span key={i} data-kind={l.kind} className={`block whitespace-pre-wrap break-all px-2 ${LINE_STYLE[l.kind]}`}>
              <span aria-hidden className="select-none text-zinc-500">
                {LINE_MARK[l.kind]}{" "}
              </span>
              <span className="sr-only">{l.kind === "same" ? "" : `${l.kind}: `}</span>
              {l.text}
            </span>
          ))}
        </pre>
      )}
    </Panel>
  );
}
