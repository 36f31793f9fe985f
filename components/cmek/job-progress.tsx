"use client";
import { type ReactNode, useEffect, useState } from "react";
import { Alert } from "@/components/ui/layout";
import type { Action } from "@/components/vaults/types";
import type { CmekJobResponse } from "@/lib/contract/cmek";
import type { ActionProblem } from "@/lib/dashboard/action-result";
import type { CmekJobInput } from "./action-schemas";

const POLL_MS = 500;

/** A problem in words for people: the service's explanation, without the API's header names. */
export function humanProblem(p: ActionProblem): string {
  const detail = p.detail.replace(/X-CMEK-Old-Key|X-CMEK-Key/g, "The current key").replace(/X-CMEK-New-Key/g, "The new key").replace(/\(POST \/v1\/[^)]*\)/g, "").trim();
  if (p.status === 403) return `You cannot change this vault's key: ${detail}`;
  return detail;
}

/** A labelled progress bar (0–100). */
export function ProgressBar({ label, pct }: { label: string; pct: number }) {
  return (
    <div role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} className="h-2 w-full overflow-hidden rounded-full bg-zinc-800">
      <div className="h-full bg-amber-400 transition-all" style={{ width: `${pct}%` }} />
    </div>
  );
}

/** A customer-key job's progress, polled until it completes or fails. */
export function JobProgress({
  vaultId,
  job: first,
  poll,
  onDone,
  stalledAction,
}: {
  vaultId: string;
  job: CmekJobResponse;
  poll: Action<CmekJobInput, CmekJobResponse>;
  onDone: (job: CmekJobResponse) => void;
  /** What the stalled notice offers (resuming the job), where the page can. */
  stalledAction?: (job: CmekJobResponse) => ReactNode;
}) {
  const [job, setJob] = useState(first);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    if (job.status !== "running") {
      onDone(job);
      return;
    }
    const t = setTimeout(async () => {
      const r = await poll({ vault_id: vaultId, job_id: job.id });
      if (r.ok) {
        setProblem(null);
        setJob(r.data);
      } else {
        setProblem(humanProblem(r.problem));
        setJob((j) => ({ ...j }));
      }
    }, POLL_MS);
    return () => clearTimeout(t);
    // onDone runs once, when the job stops; a new onDone from the parent is no reason to poll again.
  }, [job, poll, vaultId]);
  const pct = job.total === 0 ? (job.status === "completed" ? 100 : 0) : Math.min(100, Math.floor((job.processed / job.total) * 100));
  const what = job.kind === "rotate" ? "Re-encrypting under the new key" : "Decrypting back to server-side encryption only";
  return (
    <div className="flex flex-col gap-2" data-testid="cmek-job">
      <p className="text-sm text-zinc-300">{what}</p>
      <ProgressBar label="Customer key job progress" pct={pct} />
      <p className="text-xs text-zinc-400" aria-live="polite" data-testid="cmek-job-status">
        {job.processed} of {job.total} version{job.total === 1 ? "" : "s"} · {pct} % · {job.status === "running" ? "running" : job.status === "completed" ? "done" : "failed"}
      </p>
      {job.stalled && (
        <Alert tone="amber" title="The job is not making progress">
          <span className="flex flex-col gap-2">
            <span>The server running it stopped. Resume it with the same key{job.kind === "rotate" ? "s" : ""}: it goes on from where it stopped.</span>
            {stalledAction?.(job)}
          </span>
        </Alert>
      )}
      {job.status === "failed" && <Alert title="The job stopped">{job.error ?? "It failed."} Start it again with the same keys to finish it.</Alert>}
      {problem && <Alert tone="amber">{problem}</Alert>}
    </div>
  );
}

