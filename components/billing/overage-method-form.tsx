"use client";
import { type FormEvent, useState } from "react";
import { Button } from "@/components/ui/button";
import { SelectField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";
import { type OverageMethodRequest, ZOverageMethodRequest } from "@/lib/contract/billing";
import type { ActionResult } from "@/lib/dashboard/action-result";

export type SetOverageMethod = (input: OverageMethodRequest) => Promise<ActionResult<{ overage_method: string }>>;

const OPTIONS = [
  { value: "credits", label: "Credits — pay per request from the credit balance" },
  { value: "x402", label: "x402 — callers pay per request with x402 payments" },
];

/** `x402`: whether this server takes x402 payments (TALON_X402_*); otherwise that option is not offered unless already chosen. */
export function OverageMethodForm({ current, canManage, setMethod, x402 }: { current: string; canManage: boolean; setMethod: SetOverageMethod; x402: boolean }) {
  const [method, setMethodValue] = useState(current);
  const options = OPTIONS.filter((o) => o.value !== "x402" || x402 || current === "x402");
  const v = useSchemaValidation(ZOverageMethodRequest);
  const mutation = useAction(setMethod);

  function submit(e: FormEvent) {
    e.preventDefault();
    const data = v.validate({ method });
    if (data) mutation.mutate(data);
  }
  const error = fieldMessage("method", v.errors, mutation.error);
  return (
    <form onSubmit={submit} className="flex flex-col gap-3">
      <SelectField
        label="Overage method"
        name="method"
        value={method}
        onChange={(e) => {
          setMethodValue(e.target.value);
          mutation.reset();
        }}
        options={options}
        disabled={!canManage}
        error={error}
        hint={canManage ? "What happens to requests past the monthly quota." : "Only an owner or admin can change this."}
      />
      {mutation.error && !mutation.error.field("method") && <Alert>{mutation.error.problem.detail}</Alert>}
      {mutation.isSuccess && <Alert tone="green">Overage method saved.</Alert>}
      {canManage && (
        <div>
          <Button type="submit" variant="secondary" pending={mutation.isPending} disabled={method === current}>
            Save overage method
          </Button>
        </div>
      )}
    </form>
  );
}
