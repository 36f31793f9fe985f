import Link from "next/link";
import { buttonClass } from "@/components/ui/button";
import { TextField } from "@/components/ui/field";
import { type AuditFilterValues, toDatetimeLocal } from "./audit-filters";

/** A plain GET form: submitting puts the filters in the URL, so the page re-renders server-side. */
export function AuditFilterForm({ values, errors }: { values: AuditFilterValues; errors: Record<string, string> }) {
  return (
    <form method="get" action="/audit" aria-label="Filter audit events" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
      <TextField label="Action" name="action" defaultValue={values.action ?? ""} maxLength={64} placeholder="secret.read" error={errors.action} />
      <TextField label="Actor ID" name="actor_id" defaultValue={values.actor_id ?? ""} maxLength={80} placeholder="user or agent id" error={errors.actor_id} />
      <TextField label="Resource ID" name="resource_id" defaultValue={values.resource_id ?? ""} maxLength={255} error={errors.resource_id} />
      <TextField label="From (UTC)" name="from" type="datetime-local" defaultValue={toDatetimeLocal(values.from)} error={errors.from} />
      <TextField label="To (UTC)" name="to" type="datetime-local" defaultValue={toDatetimeLocal(values.to)} error={errors.to} />
      <div className="flex items-end gap-2">
        <button type="submit" className={buttonClass("primary")}>
          Filter
        </button>
        <Link href="/audit" className={buttonClass("ghost")}>
          Clear filters
        </Link>
      </div>
    </form>
  );
}
