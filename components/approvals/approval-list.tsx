import { Badge, cellClass, EmptyState, formatDate, Table } from "@/components/ui/layout";
import type { ApprovalResponse } from "@/lib/contract/approvals";
import { type ApprovalStepUp, type ApproveApproval, DecideButtons, type DenyApproval } from "./decide-buttons";

const TONES = { pending: "amber", approved: "green", used: "neutral", denied: "red", expired: "neutral" } as const;

export const whoLabel = (a: ApprovalResponse) => `${a.principal_type === "agent" ? "Agent" : "User"} ${a.principal_name ?? a.principal_id}`;

export function whatLabel(a: ApprovalResponse): string {
  if (a.break_glass) return "Break-glass access to the whole vault";
  if (a.action === "transaction") return `Transaction: ${a.resource}`;
  return `${a.action} ${a.resource}`;
}

function grantLabel(a: ApprovalResponse) {
  if (a.break_glass || a.grant_until) return `until ${new Date(a.grant_until ?? a.expires_at).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  if (a.uses_left !== null) return a.uses_left > 0 ? "once, not used yet" : "once, used";
  return null;
}

/** Approval requests, newest first: who asked, what, why, when; pending ones with their decision buttons. */
export function ApprovalList({
  approvals,
  approve,
  deny,
  stepUp,
  label,
}: {
  approvals: ApprovalResponse[];
  approve?: ApproveApproval;
  deny?: DenyApproval;
  stepUp?: ApprovalStepUp;
  label: string;
}) {
  if (approvals.length === 0) {
    return <EmptyState title={approve ? "Nothing is waiting for a decision" : "No decided requests yet"}>Requests appear here when an agent's access needs a human's approval (a policy with require_approval).</EmptyState>;
  }
  return (
    <Table label={label} head={["Who", "What", "Vault", "Why", "Asked", "Status", <span key="a" className="sr-only">Actions</span>]}>
      {approvals.map((a) => (
        <tr key={a.id} data-approval-id={a.id}>
          <td className={`${cellClass} break-all text-zinc-100`}>{whoLabel(a)}</td>
          <td className={`${cellClass} break-all font-mono text-zinc-100`}>{whatLabel(a)}</td>
          <td className={`${cellClass} break-all`}>{a.vault_name ?? "—"}</td>
          <td className={`${cellClass} break-words text-zinc-300`}>{a.reason || <span className="text-zinc-400">No reason given</span>}</td>
          <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(a.created_at)}</td>
          <td className={cellClass}>
            <div className="flex flex-col gap-1">
              <Badge tone={TONES[a.status]}>{a.break_glass ? "break-glass" : a.status}</Badge>
              {a.status !== "pending" && grantLabel(a) ? <span className="text-xs text-zinc-400">{grantLabel(a)}</span> : null}
              {a.decision_note ? <span className="break-words text-xs text-zinc-400">Note: {a.decision_note}</span> : null}
            </div>
          </td>
          <td className={`${cellClass} text-right`}>
            {a.status === "pending" && approve && deny && stepUp ? (
              <DecideButtons id={a.id} summary={`${whoLabel(a)} asks to ${whatLabel(a)}.`} approve={approve} deny={deny} stepUp={stepUp} />
            ) : null}
          </td>
        </tr>
      ))}
    </Table>
  );
}
