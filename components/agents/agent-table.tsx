import Link from "next/link";
import type { AgentResponse } from "@/lib/contract/agents";
import { cellClass, EmptyState, formatDate, Table } from "@/components/ui/layout";
import { AgentStatusBadge, AUTH_METHOD_LABELS } from "./agent-status";

/** The org's agents; "last activity" falls back to the registration date for an agent never seen. */
export function AgentTable({ agents }: { agents: AgentResponse[] }) {
  if (agents.length === 0) {
    return <EmptyState title="No agents yet">Register an agent to give a program its own identity, key and guardrails.</EmptyState>;
  }
  return (
    <Table label="Agents" head={["Name", "Status", "Auth method", "Last activity", "Vaults"]}>
      {agents.map((a) => (
        <tr key={a.id}>
          <td className={cellClass}>
            <Link href={`/agents/${a.id}`} className="font-medium text-amber-300 hover:underline focus-visible:outline-2 focus-visible:outline-amber-400">
              {a.name}
            </Link>
            {a.description && <p className="mt-0.5 max-w-xs truncate text-xs text-zinc-500">{a.description}</p>}
          </td>
          <td className={cellClass}>
            <AgentStatusBadge agent={a} />
            {!a.is_active && a.deactivated_reason && <p className="mt-0.5 max-w-xs text-xs text-zinc-500">{a.deactivated_reason}</p>}
          </td>
          <td className={`${cellClass} text-zinc-300`}>{AUTH_METHOD_LABELS[a.auth_method]}</td>
          <td className={`${cellClass} whitespace-nowrap text-zinc-300`}>
            {a.last_active_at ? formatDate(a.last_active_at) : <span className="text-zinc-500">Never (registered {formatDate(a.created_at)})</span>}
          </td>
          <td className={`${cellClass} text-zinc-300`}>{a.vault_ids.length === 0 ? "Any (policies decide)" : `${a.vault_ids.length} bound`}</td>
        </tr>
      ))}
    </Table>
  );
}
