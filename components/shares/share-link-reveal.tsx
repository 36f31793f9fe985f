"use client";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { useAutoHide } from "@/components/secrets/use-auto-hide";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { Alert, formatDate } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import type { SharedSecret } from "@/lib/contract/shares";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { SharePassphraseField } from "./share-passphrase-field";

/** What the page knows before the value is asked for (never the value, never the passphrase). */
export type ShareLinkDetails = { id: string; path: string; sharer_name: string; expires_at: string; reads_left: number | null; needs_passphrase: boolean; needs_token?: boolean };
export type RevealShareLink = (input: { id: string; passphrase?: string; token?: string }) => Promise<ActionResult<SharedSecret>>;

/** An email share's token sits in the link's fragment (#token=…), which never reached the server; it is taken off the address bar at once. */
function useFragmentToken(wanted: boolean): string {
  const [token, setToken] = useState("");
  useEffect(() => {
    if (!wanted) return;
    const found = new URLSearchParams(window.location.hash.slice(1)).get("token");
    if (!found) return;
    setToken(found);
    window.history.replaceState(null, "", window.location.pathname);
  }, [wanted]);
  return token;
}

/**
 * A link share's page body: who shared which secret, until when, how many reads are left; the value
 * only after an explicit Reveal (with the passphrase, when the sharer set one), shown for 30 s.
 */
export function ShareLinkReveal({ preview, reveal }: { preview: ShareLinkDetails; reveal: RevealShareLink }) {
  const [passphrase, setPassphrase] = useState("");
  const token = useFragmentToken(Boolean(preview.needs_token));
  const mutation = useAction(reveal, { refresh: false });
  const { reset } = mutation;
  const hide = useCallback(() => reset(), [reset]);
  const left = useAutoHide(Boolean(mutation.data), hide);

  function submit(e: FormEvent) {
    e.preventDefault();
    mutation.mutate({ id: preview.id, ...(preview.needs_passphrase ? { passphrase } : {}), ...(token ? { token } : {}) });
  }

  return (
    <div className="flex flex-col gap-5">
      <div>
        <h1 className="text-xl font-semibold text-zinc-50">A secret was shared with you</h1>
        <p className="mt-2 text-sm text-zinc-300">
          <span className="font-semibold text-zinc-100">{preview.sharer_name}</span> shared <span className="break-all font-mono text-zinc-100">{preview.path}</span>.
        </p>
      </div>
      <dl className="grid grid-cols-[auto_minmax(0,1fr)] gap-x-4 gap-y-1 text-sm">
        <dt className="text-zinc-400">Expires</dt>
        <dd data-testid="share-expires">{formatDate(preview.expires_at)}</dd>
        <dt className="text-zinc-400">Reads left</dt>
        <dd data-testid="share-reads-left">{mutation.data ? readsLeft(mutation.data) : preview.reads_left === null ? "unlimited" : preview.reads_left}</dd>
      </dl>
      {mutation.data ? (
        <div className="flex flex-col gap-2">
          <pre data-testid="shared-secret-value" aria-label={`Value of ${preview.path}`} className="max-h-64 overflow-auto whitespace-pre-wrap break-all rounded-lg border border-zinc-700 bg-zinc-950 p-3 font-mono text-sm text-zinc-100">
            {mutation.data.value}
          </pre>
          <div className="flex items-center gap-2">
            <CopyButton value={mutation.data.value} />
            <Button variant="ghost" onClick={hide}>
              Hide
            </Button>
            <span className="text-xs text-zinc-400">Hides in {left} s; revealing again uses another read.</span>
          </div>
        </div>
      ) : (
        <form onSubmit={submit} className="flex flex-col gap-4">
          {preview.needs_passphrase && (
            <SharePassphraseField value={passphrase} onChange={setPassphrase} hint="The sender set a passphrase; they will have told you separately." />
          )}
          {mutation.error && <Alert>{mutation.error.problem.detail}</Alert>}
          <div>
            <Button type="submit" pending={mutation.isPending}>
              Reveal secret
            </Button>
          </div>
          <p className="text-xs text-zinc-400">Revealing uses one read of this share and is recorded in the sharer&apos;s audit log. Opening this page did not.</p>
        </form>
      )}
    </div>
  );
}

const readsLeft = (s: SharedSecret) => (s.max_access_count === 0 ? "unlimited" : String(Math.max(0, s.max_access_count - s.access_count)));
