import Link from "next/link";
import { buttonClass } from "@/components/ui/button";
import { SelectField, TextField } from "@/components/ui/field";
import { KNOWN_AUDIT_ACTIONS } from "./audit-actions";
import { type AuditFilterValues, toDatetimeLocal } from "./audit-filters";

export type ActorOption = { value: string; label: string };

/**
 * A plain GET form: submitting puts the filters in the URL, so the page re-renders server-side. Actors
 * are picked by name (members and agents of the org); the stored `user:<id>` / `agent:<id>` goes in
 * the URL. Actions are suggested from the ones Talon records.
 */
export function AuditFilterForm({ values, errors, actors }: { values: AuditFilterValues; errors: Record<string, string>; actors: ActorOption[] }) {
  const actorKnown = !values.actor_id || actors.some((a) => a.value === values.actor_id);
  return (
    <form method="get" action="/audit" aria-label="Filter audit events" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
      <TextField label="Action" name="action" list="audit-actions" defaultValue={values.action ?? ""} maxLength={64} placeholder="secret.read" error={errors.action} autoComplete="off" />
      <datalist id="audit-actions">
        {KNOWN_AUDIT_ACTIONS.map((a) => (
          <option key={a} value={a} />
        ))}
      </datalist>
      {actorKnown ? (
        <SelectField label="Actor" name="actor_id" defaultValue={values.actor_id ?? ""} options={[{ value: "", label: "Anyone" }, ...actors]} error={errors.actor_id} />
      ) : (
        <TextField label="Actor ID" name="actor_id" defaultValue={values.actor_id ?? ""} maxLength={80} error={errors.actor_id} />
      )}
      <TextField label="Secret path or folder" name="path" defaultValue={values.path ?? ""} maxLength={512} placeholder="db/" error={errors.path} autoComplete="off" spellCheck={false} />
      <TextField label="From (UTC)" name="from" type="datetime-local" defaultValue={toDatetimeLocal(values.from)} error={errors.from} />
      <TextField label="To (UTC)" name="to" type="datetime-local" defaultValue={toDatetimeLocal(values.to)} error={errors.to} />
      {values.resource_id && <input type="hidden" name="resource_id" value={values.resource_id} />}
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
