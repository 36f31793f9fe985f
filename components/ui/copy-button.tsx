"use client";
import { useState } from "react";
import { Button } from "./button";

/**
 * Copies `value` to the clipboard. The value is only in this component's props: callers pass it
 * only after the user asked for it (a reveal, a key shown once).
 */
export function CopyButton({ value, label = "Copy", variant = "secondary" }: { value: string; label?: string; variant?: "secondary" | "ghost" | "primary" }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setState("copied");
    } catch {
      setState("failed");
    }
    setTimeout(() => setState("idle"), 2000);
  }
  return (
    <Button variant={variant} onClick={copy} aria-live="polite">
      {state === "copied" ? "Copied" : state === "failed" ? "Copy failed" : label}
    </Button>
  );
}
