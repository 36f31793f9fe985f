"use client";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmButton } from "@/components/ui/dialog";
import { Alert } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import type { ActionResult } from "@/lib/dashboard/action-result";

export type AnswerShare = (input: { id: string; answer: "accept" | "decline" }) => Promise<ActionResult<void>>;

/** Accept (then the share can be read) or decline (it leaves the list; the sender sees "Declined"). */
export function AnswerShareButtons({ id, path, answer }: { id: string; path: string; answer: AnswerShare }) {
  const [open, setOpen] = useState(false);
  const mutation = useAction(answer, { onSuccess: () => setOpen(false) });
  const accepting = mutation.isPending && mutation.variables?.answer === "accept";
  return (
    <div className="flex flex-col gap-2">
      <div className="flex flex-wrap gap-2">
        <Button variant="primary" pending={accepting} disabled={mutation.isPending} onClick={() => mutation.mutate({ id, answer: "accept" })}>
          Accept
        </Button>
        <ConfirmButton
          label="Decline"
          title="Decline this share?"
          confirmLabel="Decline share"
          variant="secondary"
          pending={mutation.isPending && !accepting}
          onConfirm={() => mutation.mutate({ id, answer: "decline" })}
          open={open}
          setOpen={setOpen}
        >
          <p>
            You will not be able to read <span className="font-mono text-zinc-100">{path}</span> through this share, and it leaves your list.
          </p>
          {mutation.error && open && (
            <div className="mt-3">
              <Alert>{mutation.error.problem.detail}</Alert>
            </div>
          )}
        </ConfirmButton>
      </div>
      {mutation.error && !open && <Alert>{mutation.error.problem.detail}</Alert>}
    </div>
  );
}
