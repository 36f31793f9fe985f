"use client";
import { useState } from "react";
import { type MfaStatusResponse, ZMfaCodeRequest } from "@/lib/contract/auth";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert, Badge } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";

type Enrolment = { secret: string; qr_data_url: string };
type SetupMfa = (input: Record<string, never>) => Promise<ActionResult<Enrolment>>;
type CodeAction<T> = (input: { code: string }) => Promise<ActionResult<T>>;

/**
 * TOTP: enrol (QR code and secret, shown only after "Set up MFA"), confirm with a first code, then
 * the recovery codes once; or turn it off with a code.
 */
export function MfaCard({
  status,
  setup,
  verify,
  disable,
}: {
  status: MfaStatusResponse;
  setup: SetupMfa;
  verify: CodeAction<{ recovery_codes: string[] }>;
  disable: CodeAction<null>;
}) {
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const start = useAction(setup, { refresh: false, onSuccess: setEnrolment });

  if (recoveryCodes) return <RecoveryCodes codes={recoveryCodes} onDone={() => setRecoveryCodes(null)} />;
  if (status.enabled) return <MfaEnabled status={status} disable={disable} />;
  if (enrolment) {
    return (
      <EnrolmentPanel
        enrolment={enrolment}
        verify={verify}
        onVerified={(codes) => {
          setEnrolment(null);
          setRecoveryCodes(codes);
        }}
        onCancel={() => setEnrolment(null)}
      />
    );
  }
  return (
    <div className="flex flex-col gap-4">
      <p className="text-sm text-zinc-300">
        <Badge>Off</Badge> <span className="ml-1">Sign-in asks only for your password.</span>
      </p>
      <p className="text-sm text-zinc-400">Add a second step with an authenticator app (such as 1Password, Google Authenticator or Aegis): a 6-digit code at every sign-in.</p>
      {start.error && <Alert>{start.error.problem.detail}</Alert>}
      <div>
        <Button onClick={() => start.mutate({})} pending={start.isPending}>
          Set up MFA
        </Button>
      </div>
    </div>
  );
}

function EnrolmentPanel({
  enrolment,
  verify,
  onVerified,
  onCancel,
}: {
  enrolment: Enrolment;
  verify: CodeAction<{ recovery_codes: string[] }>;
  onVerified: (codes: string[]) => void;
  onCancel: () => void;
}) {
  const [code, setCode] = useState("");
  const v = useSchemaValidation(ZMfaCodeRequest);
  const mutation = useAction(verify, { onSuccess: (d) => onVerified(d.recovery_codes) });
  return (
    <div className="flex flex-col gap-5" data-testid="mfa-enrolment">
      <ol className="list-decimal space-y-1 pl-5 text-sm text-zinc-300">
        <li>Scan the QR code with your authenticator app, or enter the key by hand.</li>
        <li>Type the 6-digit code the app shows to confirm.</li>
      </ol>
      <div className="flex flex-col gap-5 sm:flex-row sm:items-start">
        <img src={enrolment.qr_data_url} alt="QR code for your authenticator app" width={220} height={220} className="rounded-lg bg-white p-1" />
        <div className="flex min-w-0 flex-col gap-2">
          <p className="text-sm font-medium text-zinc-200">Key for manual entry</p>
          <code data-testid="mfa-secret" className="break-all rounded-lg border border-zinc-700 bg-zinc-950 px-3 py-2 font-mono text-sm text-amber-200">
            {enrolment.secret}
          </code>
          <div>
            <CopyButton value={enrolment.secret} label="Copy key" />
          </div>
        </div>
      </div>
      <form
        noValidate
        className="flex max-w-xs flex-col gap-4"
        onSubmit={(e) => {
          e.preventDefault();
          const data = v.validate({ code });
          if (data) mutation.mutate(data);
        }}
      >
        <TextField
          label="6-digit code"
          value={code}
          onChange={(e) => setCode(e.target.value)}
          inputMode="numeric"
          autoComplete="one-time-code"
          maxLength={6}
          pattern="[0-9]{6}"
          error={fieldMessage("code", v.errors, mutation.error)}
        />
        {mutation.error && !mutation.error.problem.fields?.length && <Alert>{mutation.error.problem.detail}</Alert>}
        <div className="flex gap-2">
          <Button type="submit" pending={mutation.isPending}>
            Verify
          </Button>
          <Button variant="secondary" onClick={onCancel}>
            Cancel
          </Button>
        </div>
      </form>
    </div>
  );
}

function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  return (
    <div className="flex flex-col gap-4" data-testid="recovery-codes">
      <Alert tone="amber" title="MFA is on. Save your recovery codes now">
        Each code signs you in once if you lose your authenticator. They are shown only this once: store them in a password manager or print them.
      </Alert>
      <ol className="grid grid-cols-1 gap-2 font-mono text-sm text-zinc-100 sm:grid-cols-2">
        {codes.map((c) => (
          <li key={c} className="rounded-md border border-zinc-800 bg-zinc-950 px-3 py-1.5">
            {c}
          </li>
        ))}
      </ol>
      <div className="flex flex-wrap gap-2">
        <CopyButton value={codes.join("\n")} label="Copy codes" />
        <Button variant="secondary" onClick={onDone}>
          I have saved my codes
        </Button>
      </div>
    </div>
  );
}

function MfaEnabled({ status, disable }: { status: MfaStatusResponse; disable: CodeAction<null> }) {
  const [code, setCode] = useState("");
  const v = useSchemaValidation(ZMfaCodeRequest);
  const mutation = useAction(disable, { onSuccess: () => setCode("") });
  const remaining = status.recovery_codes_remaining;
  return (
    <div className="flex flex-col gap-4">
      <p className="text-sm text-zinc-300">
        <Badge tone="green">On</Badge>{" "}
        <span className="ml-1">
          Sign-in asks for a code from your authenticator app. {remaining} recovery {remaining === 1 ? "code" : "codes"} left.
        </span>
      </p>
      {remaining <= 2 && (
        <Alert tone="amber">You are running out of recovery codes. Turn MFA off and on again to get a fresh set.</Alert>
      )}
      <form
        noValidate
        className="flex max-w-xs flex-col gap-4"
        onSubmit={(e) => {
          e.preventDefault();
          const data = v.validate({ code });
          if (data) mutation.mutate(data);
        }}
      >
        <TextField
          label="Authenticator or recovery code"
          value={code}
          onChange={(e) => setCode(e.target.value)}
          autoComplete="one-time-code"
          hint="Needed to turn MFA off."
          error={fieldMessage("code", v.errors, mutation.error)}
        />
        {mutation.error && !mutation.error.problem.fields?.length && <Alert>{mutation.error.problem.detail}</Alert>}
        <div>
          <Button type="submit" variant="danger" pending={mutation.isPending}>
            Disable MFA
          </Button>
        </div>
      </form>
    </div>
  );
}
