"use client";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Alert } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import type { Action } from "@/components/vaults/types";
import type { CmekJobResponse } from "@/lib/contract/cmek";
import { encodeCmekKey } from "@/lib/crypto/cmek";
import type { CmekJobInput, DisableCmekInput, RotateCmekInput } from "./action-schemas";
import { useLoadedKey } from "./cmek-vault";
import { humanProblem, JobProgress } from "./job-progress";
import { CmekKeyInput, CurrentKey } from "./key-input";
import type { LoadedCmekKey } from "./key-store";

type JobActions = {
  job: Action<CmekJobInput, CmekJobResponse>;
  rotate: Action<RotateCmekInput, CmekJobResponse>;
  disable: Action<DisableCmekInput, CmekJobResponse>;
};

/**
 * Resuming a job whose server stopped: the same keys again (the current one, and for a rotation the
 * new one the user saved when it started) go to the same start actions, which hand the job over to
 * this server (docs/cmek.md, "Crash"). The keys are checked against the job's fingerprints here first.
 */
function ResumeDialog({ vaultId, job, actions, onClose, onResumed }: { vaultId: string; job: CmekJobResponse; actions: JobActions; onClose: () => void; onResumed: (j: CmekJobResponse) => void }) {
  const loaded = useLoadedKey(vaultId, job.old_fingerprint);
  const [current, setCurrent] = useState<LoadedCmekKey | null>(null);
  const [next, setNext] = useState<LoadedCmekKey | null>(null);
  const old = loaded ?? current;
  const rotate = useAction(actions.rotate, { refresh: false, onSuccess: onResumed });
  const disable = useAction(actions.disable, { refresh: false, onSuccess: onResumed });
  const pending = rotate.isPending || disable.isPending;
  const error = rotate.error ?? disable.error;
  const ready = old && (job.kind === "disable" || next);
  function resume() {
    if (!old) return;
    if (job.kind === "disable") disable.mutate({ vault_id: vaultId, key: encodeCmekKey(old.raw) });
    else if (next && job.new_fingerprint) rotate.mutate({ vault_id: vaultId, new_fingerprint: job.new_fingerprint, old_key: encodeCmekKey(old.raw), new_key: encodeCmekKey(next.raw) });
  }
  return (
    <Dialog open onClose={onClose} title="Resume the key job">
      <CurrentKey vaultId={vaultId} fingerprint={job.old_fingerprint} value={old} onChange={setCurrent} />
      {job.kind === "rotate" && job.new_fingerprint && (
        <>
          {next ? (
            <p className="text-sm text-zinc-300">New key: loaded.</p>
          ) : (
            <CmekKeyInput fingerprint={job.new_fingerprint} label="New key file (the one saved when this rotation started)" onKey={setNext} />
          )}
        </>
      )}
      {error && <Alert title="Could not resume the job">{humanProblem(error.problem)}</Alert>}
      <div className="flex justify-end gap-2">
        <Button variant="secondary" onClick={onClose}>
          Cancel
        </Button>
        <Button disabled={!ready} pending={pending} onClick={resume}>
          Resume
        </Button>
      </div>
    </Dialog>
  );
}

/**
 * The job the vault names (vault.cmek_job_id), picked up on load: after a reload, or from another tab,
 * its progress bar continues where the job is, and a job whose server stopped can be resumed here.
 * The page refreshes once the job ends.
 */
export function RunningJob({ vaultId, jobId, actions }: { vaultId: string; jobId: string; actions: JobActions }) {
  const router = useRouter();
  const [job, setJob] = useState<CmekJobResponse | null>(null);
  const [round, setRound] = useState(0);
  const [resuming, setResuming] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    void actions.job({ vault_id: vaultId, job_id: jobId }).then((r) => {
      if (!live) return;
      if (r.ok) setJob(r.data);
      else setProblem(humanProblem(r.problem));
    });
    return () => {
      live = false;
    };
  }, [actions, vaultId, jobId]);
  if (problem) return <Alert tone="amber">{problem}</Alert>;
  if (!job) return <p className="text-sm text-zinc-400">Loading the running key job…</p>;
  return (
    <>
      <JobProgress
        key={round}
        vaultId={vaultId}
        job={job}
        poll={actions.job}
        onDone={() => router.refresh()}
        stalledAction={() => (
          <span>
            <Button variant="secondary" onClick={() => setResuming(true)}>
              Resume with the same keys
            </Button>
          </span>
        )}
      />
      {resuming && (
        <ResumeDialog
          vaultId={vaultId}
          job={job}
          actions={actions}
          onClose={() => setResuming(false)}
          onResumed={(j) => {
            setResuming(false);
            setJob(j);
            setRound((n) => n + 1);
          }}
        />
      )}
    </>
  );
}
