import { Alert, Badge } from "@/components/ui/layout";
import type { AuditVerifyResponse } from "@/lib/contract/audit";

export function ChainStatus({ result }: { result: AuditVerifyResponse }) {
  return (
    <div data-testid="audit-chain-status" className="flex flex-col gap-3">
      {result.chain_valid ? (
        <p className="flex flex-wrap items-center gap-2 text-sm text-zinc-300">
          <Badge tone="green">Valid</Badge>
          Every event links to the one before it and hashes to what it stores.
        </p>
      ) : (
        <Alert title="Chain broken">
          The chain does not hold at event <span className="break-all font-mono">{result.broken_at_event_id}</span>: it was edited, deleted or inserted outside Talon.
        </Alert>
      )}
      <p className="text-sm text-zinc-400">
        Events checked: <span className="tabular-nums text-zinc-200">{result.events_checked}</span>
      </p>
    </div>
  );
}
