"use client";
import { type ReactNode, useState } from "react";
import type { ActionProblem, ActionResult } from "@/lib/dashboard/action-result";
import { ConfirmButton } from "./dialog";
import { Alert } from "./layout";
import { useAction } from "./use-action";

/**
 * A button that asks before running one server action: the dialog owns its open state and the
 * mutation, shows the action's problem inside itself, starts clean each time it opens, and closes on
 * success (or, with `closeOnSuccess: false`, stays busy while `onSuccess` navigates away).
 */
export function ConfirmAction<I, T>({
  action,
  input,
  onSuccess,
  refresh,
  closeOnSuccess = true,
  describeProblem = (p) => p.detail,
  children,
  ...button
}: {
  label: string;
  title: string;
  confirmLabel: string;
  variant?: "danger" | "secondary" | "ghost";
  action: (input: I) => Promise<ActionResult<T>>;
  input: I;
  onSuccess?: (data: T) => void;
  refresh?: boolean;
  closeOnSuccess?: boolean;
  describeProblem?: (p: ActionProblem) => string;
  children: ReactNode;
}) {
  const [open, setOpen] = useState(false);
  const mutation = useAction(action, {
    refresh,
    onSuccess: (data) => {
      if (closeOnSuccess) setOpen(false);
      onSuccess?.(data);
    },
  });
  return (
    <ConfirmButton
      {...button}
      open={open}
      setOpen={(v) => {
        if (v) mutation.reset();
        setOpen(v);
      }}
      pending={mutation.isPending || (!closeOnSuccess && mutation.isSuccess)}
      onConfirm={() => mutation.mutate(input)}
    >
      {children}
      {mutation.error && (
        <div className="mt-3">
          <Alert>{describeProblem(mutation.error.problem)}</Alert>
        </div>
      )}
    </ConfirmButton>
  );
}
