"use client";
import { type FormEvent, useState } from "react";
import { type PolicyResponse, ZUpdatePolicyRequest } from "@/lib/contract/policies";
import { listFieldMessage, nestedFieldMessage } from "@/components/agents/form-values";
import { Button } from "@/components/ui/button";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import type { Principals, UpdatePolicy } from "./actions";
import { PolicyFields } from "./policy-fields";
import { policyFormOf, updateBody } from "./policy-form-state";

export function EditPolicyForm({
  policy,
  update,
  principals,
  paths,
  pathsTruncated,
  onDone,
}: {
  policy: PolicyResponse;
  update: UpdatePolicy;
  principals: Principals;
  paths: string[];
  pathsTruncated: boolean;
  onDone: () => void;
}) {
  const [f, setF] = useState(() => policyFormOf(policy));
  const v = useSchemaValidation(ZUpdatePolicyRequest);
  const mutation = useAction(update, { onSuccess: onDone });

  function submit(e: FormEvent) {
    e.preventDefault();
    const body = updateBody(policy, f);
    if (v.validate(body)) mutation.mutate({ vault_id: policy.vault_id, policy_id: policy.id, body });
  }

  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-4">
      {mutation.error && <Alert>{mutation.error.problem.detail}</Alert>}
      <PolicyFields
        f={f}
        setF={setF}
        errors={{ field: (name) => nestedFieldMessage(name, v.errors, mutation.error), list: (name) => listFieldMessage(name, v.errors, mutation.error) }}
        principals={principals}
        paths={paths}
        pathsTruncated={pathsTruncated}
        editing
      />
      <div className="flex flex-wrap justify-end gap-2">
        <Button variant="secondary" onClick={onDone}>
          Cancel
        </Button>
        <Button type="submit" pending={mutation.isPending}>
          Save policy
        </Button>
      </div>
    </form>
  );
}
