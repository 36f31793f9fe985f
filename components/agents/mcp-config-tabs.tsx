"use client";
import { type KeyboardEvent, useId, useRef, useState } from "react";
import { CopyButton } from "@/components/ui/copy-button";
import { mcpSnippets, type McpSnippetInput } from "./mcp-snippets";

/**
 * The MCP configurations as tabs (WAI-ARIA tabs: arrow keys move between them), each with a copy
 * button. The first tab's text carries `data-testid="agent-mcp-config"` (JSON with the ONECLAW_* env).
 */
export function McpConfigTabs(props: McpSnippetInput) {
  const snippets = mcpSnippets(props);
  const [active, setActive] = useState(snippets[0]!.id);
  const base = useId();
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  const current = snippets.find((s) => s.id === active) ?? snippets[0]!;
  const move = (e: KeyboardEvent, i: number) => {
    const next = e.key === "ArrowRight" ? i + 1 : e.key === "ArrowLeft" ? i - 1 : e.key === "Home" ? 0 : e.key === "End" ? snippets.length - 1 : null;
    if (next === null) return;
    e.preventDefault();
    const j = (next + snippets.length) % snippets.length;
    setActive(snippets[j]!.id);
    tabs.current[j]?.focus();
  };
  return (
    <div className="flex min-w-0 flex-col gap-2">
      <div role="tablist" aria-label="MCP client" className="flex flex-wrap gap-1 border-b border-zinc-800">
        {snippets.map((s, i) => (
          <button
            key={s.id}
            ref={(el) => {
              tabs.current[i] = el;
            }}
            type="button"
            role="tab"
            id={`${base}-tab-${s.id}`}
            aria-selected={s.id === current.id}
            aria-controls={`${base}-panel`}
            tabIndex={s.id === current.id ? 0 : -1}
            onClick={() => setActive(s.id)}
            onKeyDown={(e) => move(e, i)}
            className={`-mb-px border-b-2 px-3 py-2 text-sm font-medium focus-visible:outline-2 focus-visible:outline-amber-400 ${
              s.id === current.id ? "border-amber-400 text-zinc-50" : "border-transparent text-zinc-400 hover:text-zinc-100"
            }`}
          >
            {s.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${base}-panel`} aria-labelledby={`${base}-tab-${current.id}`} className="flex min-w-0 flex-col gap-2">
        <p className="text-xs text-zinc-400">{current.where}</p>
        <pre
          data-testid={current.id === snippets[0]!.id ? "agent-mcp-config" : `mcp-config-${current.id}`}
          tabIndex={0}
          className="overflow-x-auto rounded-lg border border-zinc-700 bg-zinc-950 p-3 font-mono text-xs text-zinc-200"
        >
          {current.text}
        </pre>
        <div>
          <CopyButton value={current.text} label={`Copy ${current.label} config`} />
        </div>
      </div>
    </div>
  );
}
