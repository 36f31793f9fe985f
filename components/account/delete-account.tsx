"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { TextField } from "@/components/ui/field";
import { Alert } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";

type DeleteAccount = (input: { email: string }) => Promise<ActionResult<null>>;

/** Deletion is confirmed by typing the account's email address; the server checks it again. */
export function DeleteAccount({ email, soleMember, deleteAccount }: { email: string; soleMember: boolean; deleteAccount: DeleteAccount }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const mutation = useAction(deleteAccount, { refresh: false, onSuccess: () => router.push("/login") });
  const matches = typed.trim().toLowerCase() === email.toLowerCase();
  return (
    <>
      <div className="flex flex-col gap-3">
        <p className="text-sm text-zinc-400">
          {soleMember
            ? "You are the only member of your organisation: deleting your account also deletes the organisation with all its vaults, secrets, agents and policies."
            : "Your account, API keys and sessions are deleted. What you created in the organisation stays with it."}
        </p>
        <div>
          <Button
            variant="danger"
            onClick={() => {
              setTyped("");
              mutation.reset();
              setOpen(true);
            }}
          >
            Delete account
          </Button>
        </div>
      </div>
      <Dialog open={open} onClose={() => setOpen(false)} title="Delete your account">
        <form
          noValidate
          className="flex flex-col gap-4"
          onSubmit={(e) => {
            e.preventDefault();
            if (matches) mutation.mutate({ email: typed });
          }}
        >
          <p className="text-sm text-zinc-300">This cannot be undone.{soleMember && " Your organisation and everything in it is deleted too."}</p>
          <TextField
            label="Type your email address to confirm"
            type="email"
            autoComplete="off"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            hint={email}
            error={mutation.error?.field("email")}
          />
          {mutation.error && !mutation.error.problem.fields?.length && <Alert>{mutation.error.problem.detail}</Alert>}
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" variant="danger" disabled={!matches} pending={mutation.isPending}>
              Delete my account
            </Button>
          </div>
        </form>
      </Dialog>
    </>
  );
}
