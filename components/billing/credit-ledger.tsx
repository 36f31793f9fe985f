import { cellClass, EmptyState, formatDate, Table } from "@/components/ui/layout";
import type { CreditTransactionResponse } from "@/lib/contract/billing";
import { formatCents } from "./money";

const KIND_LABELS: Record<string, string> = {
  topup: "Top-up",
  grant: "Grant",
  overage: "Overage",
  overage_refund: "Overage refund",
};

export function CreditLedger({ transactions }: { transactions: CreditTransactionResponse[] }) {
  if (transactions.length === 0) {
    return <EmptyState title="No credit movements yet">Top-ups, grants and requests paid for past the monthly quota appear here.</EmptyState>;
  }
  return (
    <Table label="Credit ledger" head={["Date", "Kind", "Description", "Amount", "Expires"]}>
      {transactions.map((t) => (
        <tr key={t.id}>
          <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(t.created_at)}</td>
          <td className={`${cellClass} whitespace-nowrap`}>{KIND_LABELS[t.kind] ?? t.kind}</td>
          <td className={cellClass}>{t.description}</td>
          <td className={`${cellClass} whitespace-nowrap text-right tabular-nums ${t.amount_cents < 0 ? "text-red-300" : "text-emerald-300"}`}>
            {t.amount_cents > 0 ? "+" : ""}
            {formatCents(t.amount_cents)}
          </td>
          <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{t.expires_at ? formatDate(t.expires_at) : "—"}</td>
        </tr>
      ))}
    </Table>
  );
}
