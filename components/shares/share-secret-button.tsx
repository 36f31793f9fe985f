"use client";
import { type FormEvent, useState } from "react";
import { isoToLocalInput } from "@/components/vaults/secret-form-input";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { Dialog } from "@/components/ui/dialog";
import { Checkbox, SelectField, TextField } from "@/components/ui/field";
import { Alert } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import { type CreateShareRequest, SHARE_MAX_ACCESS_DEFAULT, type ShareCreated } from "@/lib/contract/shares";
import type { ActionResult } from "@/lib/dashboard/action-result";

export type CreateShare = (input: { secret_id: string; body: CreateShareRequest }) => Promise<ActionResult<ShareCreated>>;
/** Who a share can go to: the org's members and active agents, by id with a name to show. */
export type ShareRecipients = { users: { id: string; label: string }[]; agents: { id: string; label: string }[] };

type Kind = "anyone_with_link" | "user" | "agent";
const KIND_OPTIONS = [
  { value: "anyone_with_link", label: "Anyone with the link" },
  { value: "user", label: "A member of your organisation" },
  { value: "agent", label: "An agent of your organisation" },
];
const DAY_MS = 86_400_000;

/**
 * "Share": creates a share through the API's own service (sharer's read access, recipient in the org,
 * expiry bounds, creation limit, pinned version unless "follow latest"). A link share's URL opens the
 * share page, which reveals only on an explicit click.
 */
export function ShareSecretButton({ secretId, path, recipients, create }: { secretId: string; path: string; recipients: ShareRecipients; create: CreateShare }) {
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState<Kind>("anyone_with_link");
  const [recipientId, setRecipientId] = useState("");
  const [expiresAt, setExpiresAt] = useState(() => isoToLocalInput(new Date(Date.now() + 7 * DAY_MS).toISOString()));
  const [maxReads, setMaxReads] = useState(String(SHARE_MAX_ACCESS_DEFAULT));
  const [passphrase, setPassphrase] = useState("");
  const [followLatest, setFollowLatest] = useState(false);
  const mutation = useAction(create, { refresh: false });
  const choices = kind === "user" ? recipients.users : kind === "agent" ? recipients.agents : [];

  function close() {
    setOpen(false);
    mutation.reset();
    setPassphrase("");
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    const when = new Date(expiresAt);
    mutation.mutate({
      secret_id: secretId,
      body: {
        recipient_type: kind,
        ...(kind !== "anyone_with_link" ? { recipient_id: recipientId || (choices[0]?.id ?? "") } : {}),
        expires_at: Number.isNaN(when.getTime()) ? expiresAt : when.toISOString(),
        max_access_count: maxReads.trim() === "" ? SHARE_MAX_ACCESS_DEFAULT : Number(maxReads),
        ...(passphrase ? { passphrase } : {}),
        follow_latest: followLatest,
      },
    });
  }
  const err = mutation.error;
  const field = (name: string) => err?.field(`body.${name}`) ?? err?.field(name);

  return (
    <>
      <Button variant="ghost" onClick={() => setOpen(true)} aria-label={`Share ${path}`}>
        Share
      </Button>
      <Dialog open={open} onClose={close} title={`Share ${path}`}>
        {mutation.data ? (
          <div className="flex flex-col gap-3">
            {mutation.data.recipient_type === "anyone_with_link" ? (
              <>
                <p className="text-sm text-zinc-300">Send this link. It opens a page that shows who shared what and reveals the value only when its holder clicks Reveal.</p>
                <input
                  readOnly
                  aria-label="Share link"
                  value={mutation.data.share_url}
                  onFocus={(e) => e.target.select()}
                  className="w-full rounded-lg border border-zinc-700 bg-zinc-950 px-3 py-2 font-mono text-xs text-zinc-100"
                />
                {passphrase && <p className="text-xs text-zinc-400">Tell the recipient the passphrase another way; it is not in the link.</p>}
              </>
            ) : (
              <p className="text-sm text-zinc-300">Shared. The recipient sees it under Shares → Inbound and must accept it before reading.</p>
            )}
            <div className="flex justify-end gap-2">
              {mutation.data.recipient_type === "anyone_with_link" && <CopyButton value={mutation.data.share_url} label="Copy link" />}
              <Button variant="secondary" onClick={close}>
                Done
              </Button>
            </div>
          </div>
        ) : (
          <form onSubmit={submit} noValidate className="flex flex-col gap-4">
            <SelectField
              label="Share with"
              name="recipient_type"
              options={KIND_OPTIONS}
              value={kind}
              onChange={(e) => {
                setKind(e.target.value as Kind);
                setRecipientId("");
              }}
              error={field("recipient_type")}
            />
            {kind !== "anyone_with_link" &&
              (choices.length > 0 ? (
                <SelectField
                  label={kind === "user" ? "Member" : "Agent"}
                  name="recipient_id"
                  options={choices.map((c) => ({ value: c.id, label: c.label }))}
                  value={recipientId || choices[0]!.id}
                  onChange={(e) => setRecipientId(e.target.value)}
                  error={field("recipient_id")}
                />
              ) : (
                <Alert tone="amber">{kind === "user" ? "No other member of your organisation to share with." : "No active agent in your organisation."}</Alert>
              ))}
            <div className="grid gap-4 sm:grid-cols-2">
              <TextField label="Expires at" name="expires_at" type="datetime-local" required value={expiresAt} onChange={(e) => setExpiresAt(e.target.value)} hint="Your local time; at most 90 days ahead." error={field("expires_at")} />
              <TextField
                label="Max reads"
                name="max_access_count"
                type="number"
                inputMode="numeric"
                min={0}
                step={1}
                value={maxReads}
                onChange={(e) => setMaxReads(e.target.value)}
                hint="0 = unlimited."
                error={field("max_access_count")}
              />
            </div>
            <TextField
              label="Passphrase (optional)"
              name="passphrase"
              type="password"
              autoComplete="new-password"
              maxLength={256}
              value={passphrase}
              onChange={(e) => setPassphrase(e.target.value)}
              hint="At least 8 characters. The reader must type it; 5 wrong guesses lock the share for 15 minutes."
              error={field("passphrase")}
            />
            <Checkbox label="Follow the latest version" checked={followLatest} onChange={(e) => setFollowLatest(e.target.checked)} hint="Off: the share serves the version current now. On: whatever version is current when it is read." />
            {err && !err.problem.fields?.length && <Alert>{err.problem.detail}</Alert>}
            <div className="flex justify-end gap-2">
              <Button variant="secondary" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" pending={mutation.isPending}>
                Create share
              </Button>
            </div>
          </form>
        )}
      </Dialog>
    </>
  );
}
