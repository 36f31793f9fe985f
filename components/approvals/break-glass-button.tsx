"use client";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { SelectField, TextAreaField } from "@/components/ui/field";
import { Alert, Badge } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import { type ApprovalResponse, BREAK_GLASS_REASON_MIN } from "@/lib/contract/approvals";
import type { ActionResult } from "@/lib/dashboard/action-result";

export type BreakGlass = (input: { vault_id: string; reason: string; duration_seconds: number }) => Promise<ActionResult<ApprovalResponse>>;

const DURATIONS = [
  { value: "900", label: "15 minutes" },
  { value: "3600", label: "1 hour" },
  { value: "14400", label: "4 hours" },
];

/** An owner's or admin's time-boxed access to this vault past its deny policies, with a typed reason; audited and mailed to the other owners. */
export function BreakGlassButton({ vaultId, activeUntil, breakGlass }: { vaultId: string; activeUntil: string | null; breakGlass: BreakGlass }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [duration, setDuration] = useState("3600");
  const mutation = useAction(breakGlass, { onSuccess: () => setOpen(false) });
  const short = reason.trim().length < BREAK_GLASS_REASON_MIN;
  return (
    <>
      {activeUntil ? (
        <span className="self-center" data-testid="break-glass-active">
          <Badge tone="red">Break-glass until {new Date(activeUntil).toISOString().slice(11, 16)} UTC</Badge>
        </span>
      ) : null}
      <Button
        variant="secondary"
        onClick={() => {
          mutation.reset();
          setOpen(true);
        }}
      >
        Break glass
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="Break glass on this vault?">
        <p className="text-sm text-zinc-300">
          Break-glass gives you access to every secret of this vault for a limited time, past its deny policies. It is recorded in the audit log and mailed to the other
          owners. Use it only in an emergency.
        </p>
        <form
          className="flex flex-col gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            mutation.mutate({ vault_id: vaultId, reason: reason.trim(), duration_seconds: Number(duration) });
          }}
        >
          <TextAreaField
            label="Reason"
            value={reason}
            maxLength={500}
            required
            onChange={(e) => setReason(e.target.value)}
            hint={`At least ${BREAK_GLASS_REASON_MIN} characters: the incident, and why the usual access is not enough.`}
          />
          <SelectField label="For" value={duration} onChange={(e) => setDuration(e.target.value)} options={DURATIONS} />
          {mutation.error && <Alert>{mutation.error.problem.detail}</Alert>}
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" variant="danger" disabled={short} pending={mutation.isPending}>
              Break glass
            </Button>
          </div>
        </form>
      </Dialog>
    </>
  );
}
