import { Badge, formatDate } from "@/components/ui/layout";
import type { SubscriptionResponse } from "@/lib/contract/billing";

const STATUS_TONES: Record<string, "green" | "amber" | "red"> = { active: "green", trialing: "green", past_due: "amber", incomplete: "amber", unpaid: "red", canceled: "red" };

export const tierLabel = (tier: string) => tier.charAt(0).toUpperCase() + tier.slice(1);

export function PlanSummary({ sub }: { sub: SubscriptionResponse }) {
  return (
    <dl className="grid gap-4 text-sm sm:grid-cols-3">
      <div>
        <dt className="text-zinc-500">Plan</dt>
        <dd data-testid="billing-tier" className="mt-1 text-xl font-semibold text-zinc-50">
          {tierLabel(sub.tier)}
        </dd>
      </div>
      <div>
        <dt className="text-zinc-500">Status</dt>
        <dd className="mt-1.5">
          <Badge tone={STATUS_TONES[sub.status] ?? "neutral"}>{sub.status.replace(/_/g, " ")}</Badge>
        </dd>
      </div>
      <div>
        <dt className="text-zinc-500">Current period ends</dt>
        <dd className="mt-1 text-zinc-200">{sub.period_end ? formatDate(sub.period_end) : "—"}</dd>
      </div>
    </dl>
  );
}
