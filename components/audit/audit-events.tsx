import Link from "next/link";
import { Badge, EmptyState } from "@/components/ui/layout";
import type { AuditEventResponse } from "@/lib/contract/audit";

/** To the second: audit events of one request often share a minute. */
const at = (iso: string) => `${iso.replace("T", " ").slice(0, 19)} UTC`;
const linkClass = "text-amber-300 hover:underline focus-visible:outline-2 focus-visible:outline-amber-400";

/** The folder of a secret path, where the vault page lists it. */
const folderOf = (path: string) => (path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "");

function str(v: unknown): string | null {
  return typeof v === "string" && v.length > 0 ? v : null;
}

/** Where the dashboard shows an event's resource, and what to call it: names and paths instead of ids. */
function resourceLink(e: AuditEventResponse, names: Record<string, string>): { label: string; href: string | null } {
  const d = e.details;
  const vaultId = str(d.vault_id);
  const path = str(d.path) ?? str(d.secret_path);
  if (e.resource_type === "secret" && vaultId && path) {
    const prefix = folderOf(path);
    return { label: path, href: `/vaults/${vaultId}${prefix ? `?prefix=${encodeURIComponent(prefix)}` : ""}` };
  }
  if (e.resource_type === "vault") return { label: names[`vault:${e.resource_id}`] ?? str(d.name) ?? e.resource_id, href: names[`vault:${e.resource_id}`] ? `/vaults/${e.resource_id}` : null };
  if (e.resource_type === "agent") return { label: names[`agent:${e.resource_id}`] ?? str(d.name) ?? e.resource_id, href: names[`agent:${e.resource_id}`] ? `/agents/${e.resource_id}` : null };
  if (e.resource_type === "policy" && vaultId) return { label: str(d.secret_path_pattern) ?? e.resource_id, href: `/policies?vault=${vaultId}` };
  if (e.resource_type === "share") return { label: path ?? e.resource_id, href: "/shares" };
  return { label: path ?? e.resource_id, href: null };
}

/**
 * Audit events as readable rows: when, who (a member's email or an agent's name, linked), what, on
 * which resource (a secret's path, a vault's or agent's name, linked), and the full event behind
 * "Details". Rows stack into compact cards on phones.
 */
export function AuditEvents({ events, names, filtered, label = "Audit events" }: { events: AuditEventResponse[]; names: Record<string, string>; filtered: boolean; label?: string }) {
  if (events.length === 0) {
    return (
      <EmptyState title={filtered ? "No events match these filters" : "No audit events yet"}>
        {filtered ? "Widen the time range or clear a filter." : "Every change and every secret read in your organisation is recorded here."}
      </EmptyState>
    );
  }
  return (
    <ul aria-label={label} className="flex flex-col divide-y divide-zinc-800/80">
      {events.map((e) => {
        const actorRef = `${e.actor_type}:${e.actor_id}`;
        const actorName = names[actorRef];
        const resource = resourceLink(e, names);
        return (
          <li key={e.id} data-event-id={e.id} data-testid="audit-event" className="grid min-w-0 gap-x-4 gap-y-1 py-3 text-sm md:grid-cols-[10.5rem_minmax(0,1fr)_minmax(0,1fr)_minmax(0,1.4fr)]">
            <time dateTime={e.created_at} className="text-xs text-zinc-400 md:text-sm">
              {at(e.created_at)}
            </time>
            <span className="flex min-w-0 flex-wrap items-center gap-1.5">
              <Badge tone={e.actor_type === "agent" ? "blue" : e.actor_type === "user" ? "neutral" : "amber"}>{e.actor_type}</Badge>
              {e.actor_type === "agent" && actorName ? (
                <Link href={`/agents/${e.actor_id}`} className={`${linkClass} break-all`}>
                  {actorName}
                </Link>
              ) : (
                <span className="break-all text-zinc-100">{actorName ?? (e.actor_type === "anonymous" ? "anonymous" : e.actor_id)}</span>
              )}
            </span>
            <span data-field="action" className="break-all font-mono text-zinc-100">{e.action}</span>
            <span className="min-w-0">
              <span className="mr-1.5 text-xs text-zinc-400">{e.resource_type}</span>
              {resource.href ? (
                <Link href={resource.href} className={`${linkClass} break-all font-mono`}>
                  {resource.label}
                </Link>
              ) : (
                <span className="break-all font-mono text-zinc-300">{resource.label}</span>
              )}
            </span>
            <details className="md:col-span-4">
              <summary className="w-fit cursor-pointer text-xs text-zinc-400 hover:text-zinc-200 focus-visible:outline-2 focus-visible:outline-amber-400">Details</summary>
              <dl className="mt-2 grid gap-x-4 gap-y-1 rounded-lg border border-zinc-800 bg-zinc-950 p-3 text-xs sm:grid-cols-[8rem_minmax(0,1fr)]">
                <dt className="text-zinc-400">Event</dt>
                <dd className="break-all font-mono text-zinc-300">{e.id}</dd>
                <dt className="text-zinc-400">Actor</dt>
                <dd className="break-all font-mono text-zinc-300">{actorRef}</dd>
                <dt className="text-zinc-400">Resource</dt>
                <dd className="break-all font-mono text-zinc-300">
                  {e.resource_type}:{e.resource_id}
                </dd>
                <dt className="text-zinc-400">IP address</dt>
                <dd className="break-all font-mono text-zinc-300">{e.ip_address || "—"}</dd>
                <dt className="text-zinc-400">Chain position</dt>
                <dd className="break-all font-mono text-zinc-300">{e.seq ?? "—"}</dd>
                <dt className="text-zinc-400">Details</dt>
                <dd className="min-w-0">
                  <pre className="overflow-x-auto whitespace-pre-wrap break-all font-mono text-zinc-300">{JSON.stringify(e.details, null, 2)}</pre>
                </dd>
              </dl>
            </details>
          </li>
        );
      })}
    </ul>
  );
}
