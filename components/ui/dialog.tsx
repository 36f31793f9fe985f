"use client";
import { type ReactNode, useEffect, useRef } from "react";
import { Button } from "./button";

/**
 * A modal on the native <dialog>: focus moves into it, Escape closes it, the page behind is inert.
 */
export function Dialog({ open, onClose, title, children, wide = false }: { open: boolean; onClose: () => void; title: string; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      // React passes a nested dialog's close event up the component tree: only this dialog's own counts.
      onClose={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
      aria-label={title}
      className={`m-auto ${wide ? "w-[min(64rem,calc(100vw-2rem))]" : "w-[min(32rem,calc(100vw-2rem))]"} rounded-xl border border-zinc-700 bg-zinc-900 p-0 text-zinc-100 shadow-2xl backdrop:bg-black/70`}
    >
      {open && (
        <div className="flex flex-col gap-4 p-5">
          <h2 className="text-lg font-semibold text-zinc-50">{title}</h2>
          {children}
        </div>
      )}
    </dialog>
  );
}

/** A button that asks before doing something that cannot be undone. */
export function ConfirmButton({
  label,
  title,
  children,
  confirmLabel,
  onConfirm,
  pending,
  variant = "danger",
  open,
  setOpen,
}: {
  label: string;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  pending?: boolean;
  variant?: "danger" | "secondary" | "ghost";
  open: boolean;
  setOpen: (v: boolean) => void;
}) {
  return (
    <>
      <Button variant={variant} onClick={() => setOpen(true)}>
        {label}
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title={title}>
        <div className="text-sm text-zinc-300">{children}</div>
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setOpen(false)}>
            Cancel
          </Button>
          <Button variant="danger" pending={pending} onClick={onConfirm}>
            {confirmLabel}
          </Button>
        </div>
      </Dialog>
    </>
  );
}
