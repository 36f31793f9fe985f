"use client";
import Link from "next/link";
import { useEffect, useRef } from "react";
import type { ConfirmEmailAction } from "@/lib/dashboard/auth-steps";
import { Alert } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import { useFragmentToken } from "./fragment-token";

export function VerifyEmail({ confirmEmail }: { confirmEmail: ConfirmEmailAction }) {
  const { token, ready } = useFragmentToken();
  const confirm = useAction(confirmEmail, { refresh: false });
  const sent = useRef(false);
  useEffect(() => {
    if (token && !sent.current) {
      sent.current = true;
      confirm.mutate({ token });
    }
  }, [token, confirm]);

  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-xl font-semibold text-zinc-50">Confirm your email</h1>
      {ready && !token && <Alert>This link has no confirmation token. Open the link from the email exactly as it was sent.</Alert>}
      {confirm.isPending && <p className="text-sm text-zinc-400">Confirming…</p>}
      {confirm.error && <Alert>{confirm.error.problem.detail}</Alert>}
      {confirm.isSuccess && (
        <>
          <Alert tone="green">Your email address is confirmed.</Alert>
          <Link href="/login?notice=verified" className="text-sm font-medium text-amber-300 hover:text-amber-200">
            Continue to sign in
          </Link>
        </>
      )}
    </div>
  );
}
