import type { CSSProperties, ReactNode } from "react";
import { LocalTime } from "./local-time";

/** The title row of a dashboard page: heading, one-line description, and the page's main actions. */
export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="flex flex-col gap-3 border-b border-zinc-800 pb-5 sm:flex-row sm:items-end sm:justify-between">
      <div className="min-w-0">
        <h1 className="text-2xl font-semibold tracking-tight text-zinc-50">{title}</h1>
        {description && <p className="mt-1 text-sm text-zinc-400">{description}</p>}
      </div>
      {actions && <div className="flex flex-wrap gap-2">{actions}</div>}
    </div>
  );
}

export function Card({ title, description, actions, children, className = "" }: { title?: string; description?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <section className={`min-w-0 rounded-xl border border-zinc-800 bg-zinc-900/60 ${className}`}>
      {(title || actions) && (
        <div className="flex flex-wrap items-start justify-between gap-3 border-b border-zinc-800 px-5 py-4">
          <div className="min-w-0">
            {title && <h2 className="text-base font-semibold text-zinc-50">{title}</h2>}
            {description && <p className="mt-0.5 text-sm text-zinc-400">{description}</p>}
          </div>
          {actions}
        </div>
      )}
      <div className="p-5">{children}</div>
    </section>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="flex flex-col items-center gap-2 rounded-xl border border-dashed border-zinc-700 px-6 py-12 text-center">
      <p className="text-sm font-semibold text-zinc-200">{title}</p>
      {children && <p className="max-w-md text-sm text-zinc-500">{children}</p>}
      {action && <div className="mt-2">{action}</div>}
    </div>
  );
}

type Tone = "neutral" | "green" | "amber" | "red" | "blue";
const TONES: Record<Tone, string> = {
  neutral: "bg-zinc-800 text-zinc-300",
  green: "bg-emerald-500/15 text-emerald-300",
  amber: "bg-amber-500/15 text-amber-300",
  red: "bg-red-500/15 text-red-300",
  blue: "bg-sky-500/15 text-sky-300",
};

export function Badge({ tone = "neutral", children }: { tone?: Tone; children: ReactNode }) {
  return <span className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ${TONES[tone]}`}>{children}</span>;
}

export function Alert({ tone = "red", title, children }: { tone?: "red" | "amber" | "green" | "blue"; title?: string; children: ReactNode }) {
  const styles = {
    red: "border-red-500/40 bg-red-500/10 text-red-200",
    amber: "border-amber-500/40 bg-amber-500/10 text-amber-100",
    green: "border-emerald-500/40 bg-emerald-500/10 text-emerald-100",
    blue: "border-sky-500/40 bg-sky-500/10 text-sky-100",
  }[tone];
  return (
    <div role={tone === "red" ? "alert" : "status"} className={`rounded-lg border px-4 py-3 text-sm ${styles}`}>
      {title && <p className="font-semibold">{title}</p>}
      <div className={title ? "mt-1" : ""}>{children}</div>
    </div>
  );
}

/** A column heading as a CSS string for `content:` (headings are our own short words; quotes and backslashes escaped). */
const cssString = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\s+/g, " ")}"`;

/**
 * A table. From `sm` up it is a table, scrolling sideways inside its card if it must; on a phone each
 * row is a stacked card of label/value pairs with its actions visible (the `stack-table` rules in
 * app/globals.css). The labels come from `head`: each text heading is handed to its column's cells as
 * the custom property `--cell-label-N`, so the rows need no per-table markup. A non-text heading (a
 * screen-reader-only "Actions") labels nothing. The scroller is a focusable, named region so keyboard
 * users can scroll it too; an empty heading (an actions column) is named for screen readers.
 */
export function Table({ head, children, label }: { head: ReactNode[]; children: ReactNode; label: string }) {
  const labels = Object.fromEntries(head.map((h, i) => [`--cell-label-${i + 1}`, typeof h === "string" && h !== "" ? cssString(h) : "none"])) as CSSProperties;
  return (
    <div role="region" aria-label={label} tabIndex={0} className="relative overflow-x-auto focus-visible:outline-2 focus-visible:outline-amber-400">
      <table className="stack-table w-full text-left text-sm sm:min-w-[36rem]" aria-label={label} style={labels}>
        <thead className="border-b border-zinc-800 text-xs uppercase tracking-wide text-zinc-500">
          <tr>
            {head.map((h, i) => (
              <th key={i} scope="col" className="px-5 py-2 font-medium sm:px-3">
                {h === "" ? <span className="sr-only">Actions</span> : h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-zinc-800/80 sm:divide-y">{children}</tbody>
      </table>
    </div>
  );
}

export const cellClass = "px-4 py-1.5 align-top sm:px-3 sm:py-3";

export function Skeleton({ rows = 3 }: { rows?: number }) {
  return (
    <div className="flex flex-col gap-3" aria-busy="true" aria-label="Loading">
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="h-10 animate-pulse rounded-lg bg-zinc-800/60" />
      ))}
    </div>
  );
}

/** A time for the page, in the user's time zone with UTC on hover (a client component: not a string). */
export function formatDate(value: string | Date | null | undefined): ReactNode {
  if (!value) return "—";
  const d = typeof value === "string" ? new Date(value) : value;
  if (Number.isNaN(d.getTime())) return "—";
  return <LocalTime value={d} />;
}
