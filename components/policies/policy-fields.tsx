"use client";
import type { Dispatch, SetStateAction } from "react";
import { Checkbox, SelectField, TextAreaField, TextField } from "@/components/ui/field";
import type { Principals } from "./actions";
import { PathPreview } from "./path-preview";
import { type PolicyForm, WEEKDAYS } from "./policy-form-state";

/** How a form looks up the message for one field (`conditions.ip_allowlist` as "Line N: …"). */
export type FieldErrors = { field: (name: string) => string | undefined; list: (name: string) => string | undefined };

const PRINCIPAL_TYPES = [
  { value: "agent", label: "Agent" },
  { value: "user", label: "User" },
];

const article = (t: "user" | "agent") => (t === "agent" ? "an agent" : "a user");
export const choosePrompt = (t: "user" | "agent") => `Choose ${article(t)}`;

/**
 * The inputs of a policy, shared by "Grant access" and "Edit": the principal and the path pattern
 * are fixed once granted (the update schema has neither), so editing shows them disabled.
 */
export function PolicyFields({
  f,
  setF,
  errors,
  principals,
  paths,
  pathsTruncated,
  editing,
}: {
  f: PolicyForm;
  setF: Dispatch<SetStateAction<PolicyForm>>;
  errors: FieldErrors;
  principals: Principals;
  paths: string[];
  pathsTruncated: boolean;
  editing: boolean;
}) {
  const set = <K extends keyof PolicyForm>(k: K, value: PolicyForm[K]) => setF((s) => ({ ...s, [k]: value }));
  const text = (k: "pattern" | "ips" | "after" | "before" | "timezone" | "expires" | "txAboveEth") => (e: { target: { value: string } }) => set(k, e.target.value);
  const toggleDay = (d: number, on: boolean) => set("days", on ? [...f.days, d] : f.days.filter((x) => x !== d));
  const choices = principals[f.principalType];
  const known = choices.some((c) => c.id === f.principalId);
  const windowError = errors.field("conditions.time_window");

  return (
    <>
      <div className="grid gap-4 sm:grid-cols-2">
        <SelectField
          label="Principal type"
          value={f.principalType}
          disabled={editing}
          onChange={(e) => setF((s) => ({ ...s, principalType: e.target.value === "user" ? "user" : "agent", principalId: "" }))}
          options={PRINCIPAL_TYPES}
        />
        <SelectField
          label="Principal"
          value={f.principalId}
          disabled={editing}
          onChange={(e) => set("principalId", e.target.value)}
          options={[
            { value: "", label: choices.length ? `${choosePrompt(f.principalType)}…` : `No ${f.principalType}s in your organisation` },
            ...choices.map((c) => ({ value: c.id, label: c.label })),
            ...(f.principalId && !known ? [{ value: f.principalId, label: `Unknown ${f.principalType} ${f.principalId}` }] : []),
          ]}
          error={errors.field("principal_id")}
        />
      </div>
      <div className="flex flex-col gap-2">
        <TextField
          label="Path pattern"
          value={f.pattern}
          onChange={text("pattern")}
          disabled={editing}
          placeholder="api-keys/*"
          spellCheck={false}
          autoComplete="off"
          hint={editing ? "Fixed once granted: revoke and grant again to change it." : "* matches one segment, ** any depth; ** alone covers the whole vault."}
          error={errors.field("secret_path_pattern")}
        />
        <PathPreview pattern={f.pattern} paths={paths} truncated={pathsTruncated} />
      </div>
      <div className="grid gap-4 sm:grid-cols-2">
        <fieldset className="flex flex-col gap-2">
          <legend className="mb-1.5 text-sm font-medium text-zinc-200">Permissions</legend>
          <Checkbox label="Read" hint="get, list, versions" checked={f.read} onChange={(e) => set("read", e.target.checked)} />
          <Checkbox label="Write" hint="put, rotate, disable, delete" checked={f.write} onChange={(e) => set("write", e.target.checked)} />
          <Checkbox
            label="Use"
            hint="Talon uses the value for them (HTTP calls, talon run) but never returns it; read includes it"
            checked={f.use}
            onChange={(e) => set("use", e.target.checked)}
          />
          {errors.field("permissions") && (
            <p role="alert" className="text-xs text-red-400">
              Tick at least one of read, write and use.
            </p>
          )}
        </fieldset>
        <SelectField
          label="Effect"
          value={f.effect}
          onChange={(e) => set("effect", e.target.value === "deny" ? "deny" : "allow")}
          options={[
            { value: "allow", label: "Allow" },
            { value: "deny", label: "Deny" },
          ]}
          hint="A matching deny beats every allow, owners included."
          error={errors.field("effect")}
        />
      </div>
      <fieldset className="grid gap-4 sm:grid-cols-2">
        <legend className="mb-1.5 text-sm font-medium text-zinc-200">Human approval</legend>
        <Checkbox
          label="Require a human's approval"
          hint="Each use of what this policy grants waits until an owner approves it on the Approvals page"
          checked={f.approval}
          onChange={(e) => set("approval", e.target.checked)}
        />
        <TextField
          label="Approve transactions above (ETH)"
          value={f.txAboveEth}
          onChange={text("txAboveEth")}
          inputMode="decimal"
          placeholder="0.5"
          hint="An agent's transaction above this value waits for approval. Empty: no threshold."
          error={errors.field("require_approval.transaction_above_eth") ?? errors.field("require_approval")}
        />
      </fieldset>
      <TextAreaField
        label="IP allowlist"
        value={f.ips}
        onChange={text("ips")}
        rows={2}
        placeholder={"10.0.0.0/8\n2001:db8::/32"}
        hint="CIDRs, one per line. Empty: any address."
        error={errors.list("conditions.ip_allowlist")}
      />
      <fieldset className="flex flex-col gap-3">
        <legend className="sr-only">Time window</legend>
        <Checkbox label="Only within a time window" checked={f.windowOn} onChange={(e) => set("windowOn", e.target.checked)} />
        {f.windowOn && (
          <>
            <div className="grid gap-4 sm:grid-cols-3">
              <TextField label="From" type="time" value={f.after} onChange={text("after")} />
              <TextField label="Until" type="time" value={f.before} onChange={text("before")} hint="Earlier than From: spans midnight." />
              <TextField label="Time zone" value={f.timezone} onChange={text("timezone")} placeholder="Europe/Paris" />
            </div>
            <div className="flex flex-wrap gap-x-4 gap-y-2" role="group" aria-label="Days of the week">
              {WEEKDAYS.map((d, i) => (
                <Checkbox key={d} label={d} checked={f.days.includes(i + 1)} onChange={(e) => toggleDay(i + 1, e.target.checked)} />
              ))}
            </div>
            <p className="text-xs text-zinc-500">No day ticked: every day.</p>
          </>
        )}
        {windowError && (
          <p role="alert" className="text-xs text-red-400">
            {windowError}
          </p>
        )}
      </fieldset>
      <TextField label="Expires at" type="datetime-local" value={f.expires} onChange={text("expires")} hint="Optional; in your time zone. Empty: never." error={errors.field("expires_at")} />
    </>
  );
}
