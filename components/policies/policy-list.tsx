"use client";
import { useState } from "react";
import type { PolicyResponse } from "@/lib/contract/policies";
import { Button } from "@/components/ui/button";
import { ConfirmButton, Dialog } from "@/components/ui/dialog";
import { Alert, Badge, cellClass, EmptyState, formatDate, Table } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import type { Principals, RevokePolicy, UpdatePolicy } from "./actions";
import { EditPolicyForm } from "./edit-policy-form";
import { describeApproval, describeConditions } from "./policy-form-state";

type Shared = { principals: Principals; paths: string[]; pathsTruncated: boolean; update: UpdatePolicy; revoke: RevokePolicy };

export function PolicyList({ policies, ...shared }: Shared & { policies: PolicyResponse[] }) {
  if (policies.length === 0) {
    return <EmptyState title="No policies on this vault">Nobody but its creator and the org&apos;s owners and admins can reach its secrets. Grant access below.</EmptyState>;
  }
  return (
    <Table label="Policies" head={["Principal", "Path pattern", "Permissions", "Conditions", "Expires", ""]}>
      {policies.map((p) => (
        <PolicyRow key={p.id} policy={p} {...shared} />
      ))}
    </Table>
  );
}

function PolicyRow({ policy: p, principals, paths, pathsTruncated, update, revoke }: Shared & { policy: PolicyResponse }) {
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const revocation = useAction(revoke);
  const name = principals[p.principal_type].find((x) => x.id === p.principal_id)?.label;
  const conditions = [...describeConditions(p.conditions), ...describeApproval(p.require_approval)];
  const expired = p.expires_at !== null && Date.parse(p.expires_at) <= Date.now();
  return (
    <tr>
      <td className={cellClass}>
        <span className="font-medium text-zinc-100">{name ?? <span className="font-mono text-xs text-zinc-400">{p.principal_id}</span>}</span>
        <span className="mt-0.5 block text-xs text-zinc-500">{p.principal_type === "agent" ? "Agent" : "User"}</span>
      </td>
      <td className={cellClass}>
        <code className="font-mono text-xs text-zinc-200">{p.secret_path_pattern}</code>
      </td>
      <td className={cellClass}>
        <span className="flex flex-wrap gap-1">
          {p.effect === "deny" && <Badge tone="red">deny</Badge>}
          {p.permissions.map((perm) => (
            <Badge key={perm} tone={perm === "write" ? "amber" : perm === "use" ? "green" : "blue"}>
              {perm}
            </Badge>
          ))}
        </span>
      </td>
      <td className={`${cellClass} text-xs text-zinc-300`}>
        {conditions.length ? (
          <ul className="flex flex-col gap-0.5">
            {conditions.map((c) => (
              <li key={c}>{c}</li>
            ))}
          </ul>
        ) : (
          <span className="text-zinc-500">None</span>
        )}
      </td>
      <td className={`${cellClass} whitespace-nowrap text-zinc-300`}>{expired ? <Badge tone="amber">Expired</Badge> : p.expires_at ? formatDate(p.expires_at) : "Never"}</td>
      <td className={cellClass}>
        <div className="flex flex-wrap justify-end gap-1">
          <Button variant="ghost" onClick={() => setEditing(true)}>
            Edit
          </Button>
          <ConfirmButton
            label="Revoke"
            title="Revoke this policy?"
            confirmLabel="Revoke access"
            variant="ghost"
            open={confirming}
            setOpen={setConfirming}
            pending={revocation.isPending}
            onConfirm={() => revocation.mutate({ vault_id: p.vault_id, policy_id: p.id }, { onSettled: () => setConfirming(false) })}
          >
            {name ?? "This principal"} loses {p.permissions.join(" and ")} access to <code className="font-mono">{p.secret_path_pattern}</code> at once.
          </ConfirmButton>
        </div>
        {revocation.error && <Alert>{revocation.error.problem.detail}</Alert>}
        <Dialog open={editing} onClose={() => setEditing(false)} title="Edit policy">
          <EditPolicyForm policy={p} update={update} principals={principals} paths={paths} pathsTruncated={pathsTruncated} onDone={() => setEditing(false)} />
        </Dialog>
      </td>
    </tr>
  );
}
