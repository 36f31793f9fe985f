"use client";
import { useState } from "react";
import { type CreateIpRuleRequest, type IpRuleResponse, ZCreateIpRuleRequest } from "@/lib/contract/security";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { Button } from "@/components/ui/button";
import { ConfirmButton } from "@/components/ui/dialog";
import { SelectField, TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert, Badge, EmptyState, Table, cellClass, formatDate } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";
import { isLockout, lockoutMessage } from "./lockout";

type RuleType = CreateIpRuleRequest["rule_type"];
type CreateRule = (input: { body: CreateIpRuleRequest; force: boolean }) => Promise<ActionResult<IpRuleResponse>>;
type DeleteRule = (input: { rule_id: string; force: boolean }) => Promise<ActionResult<null>>;

const TYPE_OPTIONS: { value: RuleType; label: string }[] = [
  { value: "allow", label: "Allow" },
  { value: "deny", label: "Deny" },
];

/**
 * Adds a rule. When the service refuses because the rule would lock the caller out, the refusal is
 * shown with an explicit "Add anyway" that repeats the same rule with `force`.
 */
export function AddIpRuleForm({ create }: { create: CreateRule }) {
  const [ruleType, setRuleType] = useState<RuleType>("allow");
  const [cidr, setCidr] = useState("");
  const [label, setLabel] = useState("");
  const [added, setAdded] = useState<string | null>(null);
  const v = useSchemaValidation(ZCreateIpRuleRequest);
  const mutation = useAction(create, {
    onSuccess: (rule) => {
      setAdded(`${rule.rule_type === "allow" ? "Allow" : "Deny"} rule for ${rule.cidr} added.`);
      setCidr("");
      setLabel("");
    },
  });
  const lockout = isLockout(mutation.error);

  function submit() {
    setAdded(null);
    const body = v.validate({ rule_type: ruleType, cidr, label: label.trim() ? label : undefined });
    if (body) mutation.mutate({ body, force: false });
  }
  /** Repeats exactly the refused rule, even if the inputs were edited since. */
  function forceRefused() {
    const refused = mutation.variables?.body;
    if (refused) mutation.mutate({ body: refused, force: true });
  }

  const cidrError = lockout ? undefined : (fieldMessage("cidr", v.errors, mutation.error) ?? mutation.error?.field("body.cidr"));
  return (
    <form
      noValidate
      className="flex flex-col gap-4"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <div className="grid gap-4 sm:grid-cols-[9rem_1fr_1fr]">
        <SelectField label="Rule type" value={ruleType} onChange={(e) => setRuleType(e.target.value as RuleType)} options={TYPE_OPTIONS} />
        <TextField
          label="CIDR"
          value={cidr}
          onChange={(e) => setCidr(e.target.value)}
          placeholder="10.0.0.0/8"
          autoComplete="off"
          spellCheck={false}
          hint="IPv4 or IPv6 network; a bare address means one host."
          error={cidrError}
        />
        <TextField
          label="Label"
          value={label}
          onChange={(e) => setLabel(e.target.value)}
          placeholder="office VPN"
          hint="Optional."
          error={fieldMessage("label", v.errors, mutation.error) ?? mutation.error?.field("body.label")}
        />
      </div>
      {lockout && mutation.error ? (
        <Alert tone="amber" title="This rule would lock you out">
          <p>{lockoutMessage(mutation.error)}</p>
          <div className="mt-3 flex flex-wrap gap-2">
            <Button variant="danger" onClick={forceRefused}>
              Add anyway
            </Button>
            <Button variant="secondary" onClick={() => mutation.reset()}>
              Cancel
            </Button>
          </div>
        </Alert>
      ) : (
        mutation.error && !cidrError && <Alert>{mutation.error.problem.detail}</Alert>
      )}
      {added && <Alert tone="green">{added}</Alert>}
      <div>
        <Button type="submit" pending={mutation.isPending}>
          Add rule
        </Button>
      </div>
    </form>
  );
}

export function IpRulesTable({ rules, remove }: { rules: IpRuleResponse[]; remove: DeleteRule }) {
  if (rules.length === 0) {
    return <EmptyState title="No IP rules">Every address may reach your organisation. Add an allow rule to admit only your networks, or a deny rule to block one.</EmptyState>;
  }
  return (
    <Table label="IP rules" head={["Type", "CIDR", "Label", "Created", <span key="a" className="sr-only">Actions</span>]}>
      {rules.map((r) => (
        <tr key={r.id}>
          <td className={cellClass}>
            <Badge tone={r.rule_type === "allow" ? "green" : "red"}>{r.rule_type}</Badge>
          </td>
          <td className={`${cellClass} font-mono text-zinc-100`}>{r.cidr}</td>
          <td className={`${cellClass} text-zinc-300`}>{r.label ?? <span className="text-zinc-600">—</span>}</td>
          <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(r.created_at)}</td>
          <td className={`${cellClass} text-right`}>
            <DeleteRuleButton rule={r} remove={remove} />
          </td>
        </tr>
      ))}
    </Table>
  );
}

/** Deleting can lock the caller out too (their last covering allow rule): same refusal, same override. */
function DeleteRuleButton({ rule, remove }: { rule: IpRuleResponse; remove: DeleteRule }) {
  const [open, setOpen] = useState(false);
  const mutation = useAction(remove, { onSuccess: () => setOpen(false) });
  const lockout = isLockout(mutation.error);
  return (
    <ConfirmButton
      label="Delete"
      title={`Delete the ${rule.rule_type} rule for ${rule.cidr}?`}
      confirmLabel="Delete rule"
      variant="secondary"
      open={open}
      setOpen={(v) => {
        if (v) mutation.reset();
        setOpen(v);
      }}
      pending={mutation.isPending}
      onConfirm={() => mutation.mutate({ rule_id: rule.id, force: false })}
    >
      <p>The change applies to every request of the organisation within seconds.</p>
      {mutation.error && (
        <div className="mt-3">
          {lockout ? (
            <Alert tone="amber" title="This would lock you out">
              <p>{lockoutMessage(mutation.error)}</p>
              <div className="mt-3">
                <Button variant="danger" onClick={() => mutation.mutate({ rule_id: rule.id, force: true })}>
                  Delete anyway
                </Button>
              </div>
            </Alert>
          ) : (
            <Alert>{mutation.error.problem.detail}</Alert>
          )}
        </div>
      )}
    </ConfirmButton>
  );
}
