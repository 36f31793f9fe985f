import type { ComponentProps } from "react";

type Variant = "primary" | "secondary" | "danger" | "ghost";

const VARIANTS: Record<Variant, string> = {
  primary: "bg-amber-400 text-zinc-950 hover:bg-amber-300 disabled:bg-amber-400/50",
  secondary: "border border-zinc-700 bg-zinc-900 text-zinc-100 hover:border-zinc-500 disabled:text-zinc-500",
  danger: "bg-red-500/90 text-white hover:bg-red-500 disabled:bg-red-500/40",
  ghost: "text-zinc-300 hover:bg-zinc-800 hover:text-zinc-50 disabled:text-zinc-600",
};

export const buttonClass = (variant: Variant = "primary", extra = "") =>
  `inline-flex items-center justify-center gap-2 rounded-lg px-3.5 py-2 text-sm font-semibold transition focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-amber-400 disabled:cursor-not-allowed ${VARIANTS[variant]} ${extra}`;

export function Button({
  variant = "primary",
  pending = false,
  className = "",
  children,
  type = "button",
  ...rest
}: ComponentProps<"button"> & { variant?: Variant; pending?: boolean }) {
  return (
    <button type={type} className={buttonClass(variant, className)} disabled={pending || rest.disabled} aria-busy={pending || undefined} {...rest}>
      {pending && <span aria-hidden className="h-3.5 w-3.5 animate-spin rounded-full border-2 border-current border-t-transparent" />}
      {children}
    </button>
  );
}
