"use client";
import { startAuthentication } from "@simplewebauthn/browser";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { Dialog } from "@/components/ui/dialog";
import { SelectField, TextField } from "@/components/ui/field";
import { Alert } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import type { z } from "zod";
import type { ApprovalResponse } from "@/lib/contract/approvals";
import type { ZPasskeySignInInput } from "@/lib/contract/passkeys";
import type { ActionResult } from "@/lib/dashboard/action-result";

/** A passkey assertion as the browser produced it (checked by the server against the same contract). */
type PasskeyAssertion = z.input<typeof ZPasskeySignInInput>;
export type ApproveApproval = (input: { id: string; duration_seconds?: number; note?: string; passkey?: PasskeyAssertion }) => Promise<ActionResult<ApprovalResponse>>;
/** The approver's passkey challenge; null data when they have no passkey (then none is asked). */
export type ApprovalStepUp = () => Promise<ActionResult<{ challenge_id: string; options: Parameters<typeof startAuthentication>[0]["optionsJSON"] } | null>>;
export type DenyApproval = (input: { id: string; note?: string }) => Promise<ActionResult<ApprovalResponse>>;

/** How long an approval lasts: once (the requester may do it one time), or a window. */
const DURATIONS = [
  { value: "once", label: "Once — this one request" },
  { value: "3600", label: "For 1 hour" },
  { value: "28800", label: "For 8 hours" },
];

/**
 * Approve (once, 1 hour or 8 hours, with an optional note) or deny one pending request. An approver
 * with a passkey confirms with it first (step-up): the browser's passkey prompt opens on "Approve request".
 */
export function DecideButtons({ id, summary, approve, deny, stepUp }: { id: string; summary: string; approve: ApproveApproval; deny: DenyApproval; stepUp: ApprovalStepUp }) {
  const [open, setOpen] = useState(false);
  const [duration, setDuration] = useState("once");
  const [note, setNote] = useState("");
  const approveWithStepUp: ApproveApproval = async (input) => {
    const challenge = await stepUp();
    if (!challenge.ok || challenge.data === null) return challenge.ok ? approve(input) : challenge;
    let response: PasskeyAssertion["response"];
    try {
      response = (await startAuthentication({ optionsJSON: challenge.data.options })) as unknown as PasskeyAssertion["response"];
    } catch {
      return { ok: false, problem: { status: 403, title: "Forbidden", detail: "Your passkey did not confirm the approval: the prompt was cancelled or failed. Try again." } };
    }
    return approve({ ...input, passkey: { challenge_id: challenge.data.challenge_id, response } });
  };
  const mutation = useAction(approveWithStepUp, { onSuccess: () => setOpen(false) });
  return (
    <div className="flex flex-wrap justify-end gap-2">
      <Button
        onClick={() => {
          mutation.reset();
          setOpen(true);
        }}
      >
        Approve
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="Approve this request?">
        <p className="text-sm text-zinc-300">{summary}</p>
        <form
          className="flex flex-col gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            mutation.mutate({ id, ...(duration === "once" ? {} : { duration_seconds: Number(duration) }), ...(note.trim() ? { note: note.trim() } : {}) });
          }}
        >
          <SelectField label="How long" value={duration} onChange={(e) => setDuration(e.target.value)} options={DURATIONS} />
          <TextField label="Note (optional)" value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} />
          {mutation.error && <Alert>{mutation.error.problem.detail}</Alert>}
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" pending={mutation.isPending}>
              Approve request
            </Button>
          </div>
        </form>
      </Dialog>
      <ConfirmAction label="Deny" title="Deny this request?" confirmLabel="Deny request" variant="secondary" action={deny} input={{ id }}>
        <p>{summary} The requester is told it was denied and can ask again.</p>
      </ConfirmAction>
    </div>
  );
}
