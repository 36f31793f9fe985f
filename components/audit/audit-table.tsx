import { Badge, cellClass, EmptyState, Table } from "@/components/ui/layout";
import type { AuditEventResponse } from "@/lib/contract/audit";

/** To the second: audit events of one request often share a minute. */
const at = (iso: string) => `${iso.replace("T", " ").slice(0, 19)} UTC`;

export function AuditTable({ events, actorNames, filtered }: { events: AuditEventResponse[]; actorNames: Record<string, string>; filtered: boolean }) {
  if (events.length === 0) {
    return (
      <EmptyState title={filtered ? "No events match these filters" : "No audit events yet"}>
        {filtered ? "Widen the time range or clear a filter." : "Every change and every secret read in your organisation is recorded here."}
      </EmptyState>
    );
  }
  return (
    <Table label="Audit events" head={["Time", "Actor", "Action", "Resource", "IP", "Details"]}>
      {events.map((e) => {
        const name = actorNames[`${e.actor_type}:${e.actor_id}`];
        return (
          <tr key={e.id} data-event-id={e.id}>
            <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>
              <time dateTime={e.created_at}>{at(e.created_at)}</time>
            </td>
            <td className={cellClass}>
              <div className="flex flex-col gap-1">
                <span className="flex items-center gap-1.5">
                  <Badge tone={e.actor_type === "agent" ? "blue" : e.actor_type === "user" ? "neutral" : "amber"}>{e.actor_type}</Badge>
                  {name && <span className="text-zinc-100">{name}</span>}
                </span>
                <span className="break-all font-mono text-xs text-zinc-500">{e.actor_id}</span>
              </div>
            </td>
            <td className={`${cellClass} whitespace-nowrap font-mono text-zinc-100`}>{e.action}</td>
            <td className={cellClass}>
              <div className="flex flex-col gap-0.5">
                <span className="text-zinc-300">{e.resource_type}</span>
                <span className="break-all font-mono text-xs text-zinc-500">{e.resource_id}</span>
              </div>
            </td>
            <td className={`${cellClass} whitespace-nowrap font-mono text-xs text-zinc-400`}>{e.ip_address || "—"}</td>
            <td className={cellClass}>
              <code className="block max-w-md break-all font-mono text-xs text-zinc-400">{JSON.stringify(e.details)}</code>
            </td>
          </tr>
        );
      })}
    </Table>
  );
}
