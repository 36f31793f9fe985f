"use client";
import { useCallback, useEffect, useRef, useState } from "react";
import { copyPending } from "@/components/secrets/clipboard";
import { useAutoHide } from "@/components/secrets/use-auto-hide";
import { Button } from "@/components/ui/button";
import { useAction } from "@/components/ui/use-action";
import { useCmekReveal } from "@/components/cmek/cmek-vault";
import { problemMessage } from "./problem-message";
import type { SecretActions } from "./types";

type Props = { vaultId: string; path: string; reveal: SecretActions["reveal"]; accessCount: number; maxAccessCount: number };

/**
 * A secret's value, masked until the user clicks Reveal, or copied without ever being shown. Either
 * click runs the API's audited, counted read; the value lives only in this component's state, hides
 * itself after 30 s and is dropped on Hide or unmount. A read that would use a count-limited version's
 * last read asks first. Reveal and Hide are one button, so focus stays where the user left it.
 */
export function RevealSecret({ vaultId, path, reveal: serverReveal, accessCount, maxAccessCount }: Props) {
  // In a customer-key vault the value is decrypted here, in the browser, with the key this tab holds.
  const reveal = useCmekReveal(serverReveal);
  // Reads this component made, as the server counted them: the last-read warning must not wait for the
  // page's list to refresh after a read.
  const [counted, setCounted] = useState(accessCount);
  const onRead = (d: { access_count: number }) => setCounted((c) => Math.max(c, d.access_count));
  const shown = useAction(reveal, { onSuccess: onRead });
  const copied = useAction(reveal, { onSuccess: onRead });
  const [confirming, setConfirming] = useState<"reveal" | "copy" | null>(null);
  const [copyState, setCopyState] = useState<"idle" | "copied" | "failed">("idle");
  const toggle = useRef<HTMLButtonElement>(null);
  const copyButton = useRef<HTMLButtonElement>(null);
  // A pending button is disabled, which drops focus to <body>; once the read settles, focus goes back
  // to the control the user pressed (only then: a page load must not pull focus into the table).
  const pressed = useRef<HTMLButtonElement | null>(null);
  const { reset } = shown;
  useEffect(() => reset, [reset]);
  useEffect(() => {
    if (shown.isPending || copied.isPending || !pressed.current) return;
    if (document.activeElement === document.body || document.activeElement === null) pressed.current.focus();
  }, [shown.isPending, copied.isPending, shown.data]);
  const hide = useCallback(() => reset(), [reset]);
  const secondsLeft = useAutoHide(Boolean(shown.data), hide);
  const lastRead = maxAccessCount > 0 && Math.max(accessCount, counted) === maxAccessCount - 1;
  const input = { vault_id: vaultId, path };

  function doReveal() {
    setConfirming(null);
    pressed.current = toggle.current;
    shown.mutate(input);
    toggle.current?.focus();
  }
  async function doCopy() {
    setConfirming(null);
    pressed.current = copyButton.current;
    setCopyState("idle");
    const value = shown.data
      ? Promise.resolve(shown.data.value)
      : copied.mutateAsync(input).then((d) => {
          // Copied, never shown: the value is not kept once it is on the clipboard.
          setTimeout(() => copied.reset(), 0);
          return d.value;
        });
    try {
      await copyPending(value);
      setCopyState("copied");
    } catch {
      setCopyState("failed");
    }
    setTimeout(() => setCopyState("idle"), 2000);
  }

  const error = shown.error ?? copied.error;
  return (
    <div className="flex min-w-48 flex-col gap-2">
      {shown.data ? (
        <>
          <pre data-testid="secret-value" aria-label={`Value of ${path}`} className="max-h-40 max-w-sm overflow-auto whitespace-pre-wrap break-all rounded-md bg-zinc-950 px-2 py-1.5 font-mono text-xs text-zinc-100">
            {shown.data.value}
          </pre>
          <p className="text-xs text-zinc-400" data-testid="auto-hide">
            Hides in {secondsLeft} s
          </p>
        </>
      ) : (
        <span aria-label="Hidden value" className="font-mono tracking-widest text-zinc-400">
          ••••
        </span>
      )}
      <div className="flex flex-wrap items-center gap-2">
        <Button
          ref={toggle}
          variant="secondary"
          pending={shown.isPending}
          onClick={() => (shown.data ? hide() : lastRead ? setConfirming("reveal") : doReveal())}
          aria-label={`${shown.data ? "Hide" : "Reveal"} ${path}`}
        >
          {shown.data ? "Hide" : "Reveal"}
        </Button>
        <Button ref={copyButton} variant="ghost" pending={copied.isPending} onClick={() => (!shown.data && lastRead ? setConfirming("copy") : void doCopy())} aria-label={`Copy ${path}`}>
          {copyState === "copied" ? "Copied" : copyState === "failed" ? "Copy failed" : "Copy"}
        </Button>
        <span aria-live="polite" className="sr-only">
          {copyState === "copied" ? `Value of ${path} copied` : ""}
        </span>
      </div>
      {confirming && (
        <div role="alert" className="flex max-w-xs flex-col gap-2 rounded-md border border-amber-500/40 bg-amber-500/10 p-2 text-xs text-amber-200">
          <p>
            This uses the last read of this version ({maxAccessCount} allowed). After it, {path} cannot be read by anyone until a new version is stored.
          </p>
          <div className="flex gap-2">
            <Button variant="secondary" onClick={() => (confirming === "reveal" ? doReveal() : void doCopy())}>
              {confirming === "reveal" ? "Reveal anyway" : "Copy anyway"}
            </Button>
            <Button
              variant="ghost"
              onClick={() => {
                setConfirming(null);
                toggle.current?.focus();
              }}
            >
              Cancel
            </Button>
          </div>
        </div>
      )}
      {error && (
        <p role="alert" className="max-w-xs text-xs text-red-400">
          {problemMessage(error.problem)}
        </p>
      )}
    </div>
  );
}
