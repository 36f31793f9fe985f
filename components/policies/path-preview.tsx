"use client";
import { matchPathPattern, pathPatternProblem } from "@/lib/path-glob";

const SHOWN = 50;

/**
 * Which of the vault's secrets a pattern matches, with the server's own glob matcher. Paths are not
 * secret; values never reach this component.
 */
export function PathPreview({ pattern, paths, truncated }: { pattern: string; paths: string[]; truncated: boolean }) {
  const p = pattern.trim();
  const problem = p ? pathPatternProblem(p) : null;
  const matches = p && !problem ? paths.filter((path) => matchPathPattern(p, path)) : [];
  return (
    <div data-testid="path-preview" className="rounded-lg border border-zinc-800 bg-zinc-950/60 px-3 py-2 text-xs">
      <p aria-live="polite" className="text-zinc-400">
        {!p
          ? "Type a pattern to see which secrets it matches."
          : problem
            ? "Fix the pattern to see its matches."
            : paths.length === 0
              ? "This vault has no secrets yet; the pattern will apply to secrets written later."
              : `Matches ${matches.length} of ${paths.length}${truncated ? "+" : ""} existing secret${paths.length === 1 ? "" : "s"}.`}
      </p>
      {matches.length > 0 && (
        <ul className="mt-1.5 flex max-h-40 flex-col gap-0.5 overflow-y-auto font-mono text-zinc-200">
          {matches.slice(0, SHOWN).map((m) => (
            <li key={m}>{m}</li>
          ))}
          {matches.length > SHOWN && <li className="text-zinc-500">…and {matches.length - SHOWN} more</li>}
        </ul>
      )}
    </div>
  );
}
