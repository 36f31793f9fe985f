import { Alert, Badge } from "@/components/ui/layout";
import type { AuditVerifyResponse } from "@/lib/contract/audit";

type Props = { result: AuditVerifyResponse; busy?: never } | { busy: true; result?: never };

export function ChainStatus(props: Props) {
  if (props.busy) {
    return (
      <div data-testid="audit-chain-status">
        <p className="text-sm text-zinc-300">A verification of this chain is already running. Reload the page in a moment to see its result.</p>
      </div>
    );
  }
  const { result } = props;
  return (
    <div data-testid="audit-chain-status" className="flex flex-col gap-3">
      {result.chain_valid ? (
        <p className="flex flex-wrap items-center gap-2 text-sm text-zinc-300">
          <Badge tone="green">Valid</Badge>
          Every event links to the one before it and hashes to what it stores.
        </p>
      ) : (
        <Alert title="Chain broken">
          The chain does not hold
          {result.broken_at_event_id ? (
            <>
              {" "}
              at event <span className="break-all font-mono">{result.broken_at_event_id}</span>
            </>
          ) : null}
          : it was edited, deleted or inserted outside Talon.{result.detail ? ` ${result.detail}.` : null}
        </Alert>
      )}
      {result.checkpoint === "rejected" ? (
        <Alert title="Checkpoint rejected">The stored checkpoint&apos;s signature did not verify, so it was ignored and the chain was verified from its first event.</Alert>
      ) : null}
      <p className="text-sm text-zinc-400">
        Events checked: <span className="tabular-nums text-zinc-200">{result.events_checked}</span>
        {result.mode === "incremental" && result.checkpoint === "valid" ? " (appended since the last signed checkpoint)" : null}
      </p>
      {result.chain_valid && !result.complete ? (
        <p className="text-sm text-zinc-400">
          Verified through event <span className="tabular-nums text-zinc-200">{result.verified_through_seq}</span> of{" "}
          <span className="tabular-nums text-zinc-200">{result.head_seq}</span>; reload to continue.
        </p>
      ) : null}
    </div>
  );
}
