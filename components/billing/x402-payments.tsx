import { Badge, cellClass, EmptyState, formatDate, Table } from "@/components/ui/layout";
import type { X402Payment, X402WellKnown } from "@/lib/contract/x402";

const STATUS_TONES = { settled: "green", settling: "amber", failed: "red" } as const;

const short = (hex: string) => (hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-6)}` : hex);

/** A transaction hash, linked to the chain's explorer when it has one. */
function TxHash({ hash, explorerUrl }: { hash: string; explorerUrl: string }) {
  if (!explorerUrl) {
    return (
      <code className="font-mono text-xs" title={hash}>
        {short(hash)}
      </code>
    );
  }
  return (
    <a className="font-mono text-xs text-amber-300 underline-offset-2 hover:underline" href={`${explorerUrl}/tx/${hash}`} target="_blank" rel="noreferrer noopener" title={hash}>
      {short(hash)}
    </a>
  );
}

/** What x402 means for this org, in words, from the server's own offer (/.well-known/x402). */
function X402Explainer({ offer }: { offer: X402WellKnown }) {
  const terms = offer.accepts[0];
  return (
    <div className="flex flex-col gap-2 text-sm text-zinc-400">
      <p>
        With the overage method <strong className="text-zinc-200">x402</strong>, requests past the monthly quota are not refused and draw no credits: each one is
        answered <code className="font-mono">402 Payment Required</code> with x402 payment requirements, the caller signs an EIP-3009 authorization for exactly
        one request, retries with an <code className="font-mono">X-PAYMENT</code> header, and Talon settles it on chain before serving the request. One payment
        buys one request; an authorization is never accepted twice.
      </p>
      {terms ? (
        <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1">
          <dt>Price per request</dt>
          <dd className="tabular-nums text-zinc-200" data-testid="x402-price">
            {terms.maxAmountRequired} atomic units of {terms.extra.name || "the token"}
          </dd>
          <dt>Token</dt>
          <dd>
            <code className="font-mono text-xs break-all">{terms.asset}</code>
          </dd>
          <dt>Network</dt>
          <dd className="text-zinc-200">{terms.network}</dd>
          <dt>Paid to</dt>
          <dd>
            <code className="font-mono text-xs break-all">{terms.payTo}</code>
          </dd>
        </dl>
      ) : (
        <p>This server does not take x402 payments: its operator has not configured them (TALON_X402_*).</p>
      )}
      <p>
        Agents pay with the SDK&apos;s <code className="font-mono">withPayment(fetch, account, {"{ maxAmount }"})</code> or the CLI&apos;s{" "}
        <code className="font-mono">--x402-key-file</code>; the payer needs the token, not gas.
      </p>
    </div>
  );
}

export function X402Payments({ offer, payments, explorerUrl }: { offer: X402WellKnown; payments: X402Payment[]; explorerUrl: string }) {
  return (
    <div className="flex flex-col gap-6">
      <X402Explainer offer={offer} />
      <div className="flex flex-col gap-3">
        <h3 className="text-sm font-semibold text-zinc-200">x402 payments</h3>
        {payments.length === 0 ? (
          <EmptyState title="No x402 payments yet">Requests paid with x402 past the quota appear here with their on-chain transaction.</EmptyState>
        ) : (
          <Table label="x402 payments" head={["Date", "Status", "Amount", "Payer", "Transaction", "Request"]}>
            {payments.map((p) => (
              <tr key={p.id}>
                <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(p.created_at)}</td>
                <td className={cellClass}>
                  <Badge tone={STATUS_TONES[p.status]}>{p.status}</Badge>
                  {p.error && <p className="mt-1 max-w-xs text-xs text-red-300">{p.error}</p>}
                </td>
                <td className={`${cellClass} whitespace-nowrap tabular-nums`}>{p.amount}</td>
                <td className={cellClass}>
                  <code className="font-mono text-xs" title={p.payer}>
                    {short(p.payer)}
                  </code>
                </td>
                <td className={cellClass}>{p.tx_hash ? <TxHash hash={p.tx_hash} explorerUrl={explorerUrl} /> : "—"}</td>
                <td className={`${cellClass} font-mono text-xs break-all`}>{p.resource}</td>
              </tr>
            ))}
          </Table>
        )}
      </div>
    </div>
  );
}
