import { TopupForm, UpgradeButtons } from "@/components/billing/checkout-buttons";
import { CreditLedger } from "@/components/billing/credit-ledger";
import { formatCents } from "@/components/billing/money";
import { OverageMethodForm } from "@/components/billing/overage-method-form";
import { PlanSummary } from "@/components/billing/plan-summary";
import { UsageChart } from "@/components/billing/usage-chart";
import { UsageMeters } from "@/components/billing/usage-meters";
import { X402Payments } from "@/components/billing/x402-payments";
import { monthSeries } from "@/components/billing/usage-series";
import { Alert, Card, formatDate, PageHeader } from "@/components/ui/layout";
import type { SubscriptionResponse, UsageResponse } from "@/lib/contract/billing";
import { getCreditBalance, getCreditTransactions, getSubscription, getUsage } from "@/server/billing/service";
import { dayOf, TIER_NAMES, TIERS } from "@/server/billing/tiers";
import { listX402Payments, x402Discovery } from "@/server/billing/x402-payments";
import { pageCtx } from "@/server/dashboard/context";
import { findChain } from "@/server/intents/chains";
import { setOverageMethodAction, topupCheckoutAction, upgradeCheckoutAction } from "./actions";

export const dynamic = "force-dynamic";

function SelfManaged() {
  return (
    <Alert tone="blue" title="Billing is self-managed on this server">
      Stripe is not configured, so plans and credits are changed by the operator: <code className="font-mono">npm run billing:set-tier -- --org &lt;org id or email&gt; --tier pro</code> (add{" "}
      <code className="font-mono">--credits-cents 2000</code> to grant credits).
    </Alert>
  );
}

function UsageCards({ sub, usage, limitsNote }: { sub: SubscriptionResponse; usage: UsageResponse; limitsNote: string }) {
  return (
    <>
      <Card title="Usage" description={`Period ${usage.period} (UTC). ${limitsNote}`}>
        <UsageMeters usage={sub.usage} overageRequests={usage.overage_requests} />
      </Card>

      <Card title="Requests per day">
        <UsageChart period={usage.period} bars={monthSeries(usage.period, usage.daily)} today={dayOf(Date.now())} />
      </Card>
    </>
  );
}

/** Billing off (TALON_BILLING=off): no plan, credits or checkout to offer, only what was used. */
function UsageOnly({ sub, usage }: { sub: SubscriptionResponse; usage: UsageResponse }) {
  return (
    <>
      <PageHeader title="Usage" description="This month's requests and what your organisation holds. This server has no plans or quotas." />
      <UsageCards sub={sub} usage={usage} limitsNote="Unlimited: billing is off on this server." />
    </>
  );
}

export default async function BillingPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const ctx = await pageCtx();
  const checkout = (await searchParams).checkout;
  // One after the other: each read hands this instance's reserved quota back first.
  const sub = await getSubscription(ctx);
  const usage = await getUsage(ctx);
  if (ctx.rt.config.billing === "off") return <UsageOnly sub={sub} usage={usage} />;
  const [balance, ledger] = await Promise.all([getCreditBalance(ctx), getCreditTransactions(ctx)]);

  const canManage = ctx.principal.role !== "member";
  const stripe = Boolean(ctx.rt.config.stripe);
  const upgrades = (["pro", "business"] as const)
    .filter((t) => TIER_NAMES.indexOf(t) > TIER_NAMES.indexOf(sub.tier))
    .map((tier) => ({ tier, price: formatCents(TIERS[tier].priceCents ?? 0) }));
  const nextExpiry = balance.expiring[0];
  // x402 is shown where the server takes it, or where the org chose it before the operator turned it off.
  const x402 = ctx.rt.config.x402 !== undefined || sub.overage_method === "x402" ? { offer: await x402Discovery(ctx), payments: (await listX402Payments(ctx, 50)).payments } : null;

  return (
    <>
      <PageHeader title="Billing" description="Your plan, this month's usage and your credit balance." />
      {checkout === "success" && <Alert tone="green">Payment received. Changes appear here as soon as Stripe confirms them.</Alert>}
      {checkout === "cancelled" && <Alert tone="amber">Checkout was cancelled; nothing was charged.</Alert>}

      <Card title="Plan">
        <div className="flex flex-col gap-5">
          <PlanSummary sub={sub} />
          {!stripe ? (
            <SelfManaged />
          ) : canManage ? (
            <UpgradeButtons tiers={upgrades} upgrade={upgradeCheckoutAction} />
          ) : (
            <p className="text-sm text-zinc-500">Only an owner or admin can change the plan.</p>
          )}
        </div>
      </Card>

      <UsageCards sub={sub} usage={usage} limitsNote={`Plan limits of the ${sub.tier} tier.`} />

      <Card title="Credits" description="Credits pay for requests past the monthly quota when the overage method is credits.">
        <div className="flex flex-col gap-6">
          <div className="flex flex-col gap-1">
            <p className="text-sm text-zinc-500">Balance</p>
            <p data-testid="credit-balance" className="text-2xl font-semibold tabular-nums text-zinc-50">
              {formatCents(balance.balance_cents)}
            </p>
            {nextExpiry && (
              <p className="text-xs text-zinc-500">
                Next to expire: {formatCents(nextExpiry.amount_cents)} on {formatDate(nextExpiry.expires_at)}.
              </p>
            )}
          </div>
          {stripe && canManage && <TopupForm topup={topupCheckoutAction} />}
          <div className="max-w-md">
            <OverageMethodForm current={sub.overage_method} canManage={canManage} setMethod={setOverageMethodAction} x402={ctx.rt.config.x402 !== undefined} />
          </div>
          <div className="flex flex-col gap-3">
            <h3 className="text-sm font-semibold text-zinc-200">Credit ledger</h3>
            <CreditLedger transactions={ledger.transactions} />
          </div>
        </div>
      </Card>

      {x402 && (
        <Card title="x402 pay-per-request" description="Requests past the quota paid on chain, one payment per request, when the overage method is x402.">
          <X402Payments offer={x402.offer} payments={x402.payments} explorerUrl={findChain(x402.offer.accepts[0]?.network ?? "", ctx.rt.config.chainRpcUrls)?.explorer_url ?? ""} />
        </Card>
      )}
    </>
  );
}
