import type { SubscriptionResponse } from "@/lib/contract/billing";

type Used = SubscriptionResponse["usage"]["requests"];

const fmt = (n: number) => n.toLocaleString("en-US");

function UsageMeter({ label, used, note }: { label: string; used: Used; note?: string }) {
  const { limit } = used;
  const ratio = limit === null || limit === 0 ? 0 : Math.min(1, used.used / limit);
  const over = limit !== null && used.used >= limit;
  const text = limit === null ? `${fmt(used.used)} (unlimited)` : `${fmt(used.used)} of ${fmt(limit)}`;
  return (
    <div className="flex flex-col gap-1.5">
      <div className="flex items-baseline justify-between gap-3 text-sm">
        <span className="font-medium text-zinc-200">{label}</span>
        <span className="tabular-nums text-zinc-400">{text}</span>
      </div>
      {limit !== null && (
        <div
          role="meter"
          aria-label={label}
          aria-valuemin={0}
          aria-valuemax={limit}
          aria-valuenow={Math.min(used.used, limit)}
          aria-valuetext={text}
          className="h-2 overflow-hidden rounded-full bg-zinc-800"
        >
          <div className={`h-full rounded-full ${over ? "bg-red-400" : ratio >= 0.8 ? "bg-amber-300" : "bg-amber-500/80"}`} style={{ width: `${ratio * 100}%` }} />
        </div>
      )}
      {note && <p className="text-xs text-zinc-500">{note}</p>}
    </div>
  );
}

export function UsageMeters({ usage, overageRequests }: { usage: SubscriptionResponse["usage"]; overageRequests: number }) {
  return (
    <div className="grid gap-5 sm:grid-cols-2">
      <UsageMeter
        label="Requests this month"
        used={usage.requests}
        note={overageRequests > 0 ? `${fmt(overageRequests)} requests past the quota were paid with credits.` : "Resets on the 1st (UTC)."}
      />
      <UsageMeter label="Vaults" used={usage.vaults} />
      <UsageMeter label="Secrets" used={usage.secrets} />
      <UsageMeter label="Agents" used={usage.agents} />
    </div>
  );
}
