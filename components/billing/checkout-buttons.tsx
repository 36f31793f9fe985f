"use client";
import { type FormEvent, useState } from "react";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";
import { ZTopupRequest } from "@/lib/contract/billing";
import type { ActionResult } from "@/lib/dashboard/action-result";

type Checkout = ActionResult<{ checkout_url: string }>;
export type UpgradeCheckout = (input: { tier: "pro" | "business" }) => Promise<Checkout>;
export type TopupCheckout = (input: { amount_cents: number }) => Promise<Checkout>;

/** Stripe hosts the payment page: the browser leaves for it once the session exists. */
const toCheckout = ({ checkout_url }: { checkout_url: string }) => window.location.assign(checkout_url);

export function UpgradeButtons({ tiers, upgrade }: { tiers: { tier: "pro" | "business"; price: string }[]; upgrade: UpgradeCheckout }) {
  const mutation = useAction(upgrade, { refresh: false, onSuccess: toCheckout });
  if (tiers.length === 0) return null;
  return (
    <div className="flex flex-col gap-2">
      <div className="flex flex-wrap gap-2">
        {tiers.map(({ tier, price }) => (
          <Button
            key={tier}
            pending={mutation.isPending && mutation.variables?.tier === tier}
            disabled={mutation.isPending || mutation.isSuccess}
            onClick={() => mutation.mutate({ tier })}
          >
            Upgrade to {tier === "pro" ? "Pro" : "Business"} ({price}/month)
          </Button>
        ))}
      </div>
      {mutation.error && <Alert>{mutation.error.problem.detail}</Alert>}
    </div>
  );
}

export function TopupForm({ topup }: { topup: TopupCheckout }) {
  const [dollars, setDollars] = useState("20");
  const v = useSchemaValidation(ZTopupRequest);
  const mutation = useAction(topup, { refresh: false, onSuccess: toCheckout });

  function submit(e: FormEvent) {
    e.preventDefault();
    const amount = Number(dollars);
    const data = v.validate({ amount_cents: Number.isFinite(amount) && dollars.trim() !== "" ? Math.round(amount * 100) : Number.NaN });
    if (data) mutation.mutate(data);
  }
  return (
    <form onSubmit={submit} className="flex flex-col gap-3 sm:flex-row sm:items-start">
      <div className="sm:w-48">
        <TextField
          label="Top-up amount (USD)"
          name="amount"
          type="number"
          inputMode="decimal"
          min={5}
          max={1000}
          step="0.01"
          value={dollars}
          onChange={(e) => setDollars(e.target.value)}
          error={fieldMessage("amount_cents", v.errors, mutation.error) && "Enter an amount from $5 to $1,000."}
          hint="$5 – $1,000; credits expire after 12 months."
        />
      </div>
      <div className="sm:pt-7">
        <Button type="submit" pending={mutation.isPending} disabled={mutation.isSuccess}>
          Top up
        </Button>
      </div>
      {mutation.error && !mutation.error.field("amount_cents") && <Alert>{mutation.error.problem.detail}</Alert>}
    </form>
  );
}
