import { formatEther } from "viem";
import type { TransactionResponse } from "@/lib/contract/transactions";
import { Badge, cellClass, EmptyState, formatDate, Table } from "@/components/ui/layout";

const TONE: Record<TransactionResponse["status"], "neutral" | "green" | "amber" | "red" | "blue"> = {
  pending: "neutral",
  signed: "blue",
  broadcast: "amber",
  confirmed: "green",
  failed: "red",
  simulation_failed: "red",
};

const short = (hash: string) => `${hash.slice(0, 10)}…${hash.slice(-8)}`;

/** An agent's transactions: status, hash (linked to the chain's explorer when it has one), value, guardrail decisions. */
export function TransactionsTable({ transactions }: { transactions: TransactionResponse[] }) {
  if (!transactions.length) {
    return <EmptyState title="No transactions yet">Transactions the agent submits through the crypto proxy appear here.</EmptyState>;
  }
  return (
    <Table label="Transactions" head={["Status", "Chain", "To", "Value", "Hash", "Guardrails", "Created"]}>
      {transactions.map((t) => (
        <tr key={t.id} data-testid="transaction-row">
          <td className={cellClass}>
            <Badge tone={TONE[t.status]}>{t.status}</Badge>
            {t.error_message && <p className="mt-1 max-w-xs break-words text-xs text-red-300">{t.error_message}</p>}
          </td>
          <td className={cellClass}>{t.chain}</td>
          <td className={`${cellClass} font-mono text-xs`}>{t.to}</td>
          <td className={cellClass}>{formatEther(BigInt(t.value_wei))} ETH</td>
          <td className={`${cellClass} font-mono text-xs`}>
            {t.tx_hash ? (
              t.explorer_url ? (
                <a href={t.explorer_url} target="_blank" rel="noreferrer noopener" className="text-amber-300 hover:underline">
                  {short(t.tx_hash)}
                </a>
              ) : (
                <span title={t.tx_hash}>{short(t.tx_hash)}</span>
              )
            ) : (
              "—"
            )}
          </td>
          <td className={`${cellClass} text-xs`}>
            <ul className="flex flex-col gap-0.5">
              {t.guardrails.map((g) => (
                <li key={g.rule} className={g.decision === "refused" ? "text-red-300" : "text-zinc-400"}>
                  {g.rule}: {g.decision}
                  {g.limit !== null ? ` (${g.limit})` : ""}
                </li>
              ))}
            </ul>
          </td>
          <td className={`${cellClass} text-xs text-zinc-400`}>{formatDate(t.created_at)}</td>
        </tr>
      ))}
    </Table>
  );
}
