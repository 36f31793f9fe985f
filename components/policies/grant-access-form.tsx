"use client";
import { type FormEvent, useState } from "react";
import { ZCreatePolicyRequest } from "@/lib/contract/policies";
import { listFieldMessage, nestedFieldMessage } from "@/components/agents/form-values";
import { Button } from "@/components/ui/button";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert, Card } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import type { GrantAccess, Principals } from "./actions";
import { choosePrompt, PolicyFields } from "./policy-fields";
import { createBody, emptyPolicyForm, type PolicyForm } from "./policy-form-state";

export function GrantAccessForm({
  vaultId,
  vaultName,
  grant,
  principals,
  paths,
  pathsTruncated,
}: {
  vaultId: string;
  vaultName: string;
  grant: GrantAccess;
  principals: Principals;
  paths: string[];
  pathsTruncated: boolean;
}) {
  const [f, setF] = useState<PolicyForm>(emptyPolicyForm);
  const [granted, setGranted] = useState<string | null>(null);
  const [pickError, setPickError] = useState<string | undefined>();
  const v = useSchemaValidation(ZCreatePolicyRequest);
  const mutation = useAction(grant, {
    onSuccess: (p) => {
      setGranted(principals[p.principal_type].find((x) => x.id === p.principal_id)?.label ?? p.principal_id);
      setF((s) => ({ ...emptyPolicyForm(), principalType: s.principalType }));
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    setGranted(null);
    // An empty select would only earn zod's "Invalid UUID"; say what to do instead.
    const pick = f.principalId ? undefined : choosePrompt(f.principalType);
    setPickError(pick);
    const body = createBody(f);
    if (v.validate(body) && !pick) mutation.mutate({ vault_id: vaultId, body });
  }

  return (
    <Card title="Grant access" description={`Let a user or agent read or write secrets of ${vaultName} whose paths match a pattern.`}>
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        {mutation.error && <Alert>{mutation.error.problem.detail}</Alert>}
        {granted && <Alert tone="green">Access granted to {granted}.</Alert>}
        <PolicyFields
          f={f}
          setF={setF}
          errors={{
            field: (name) => (name === "principal_id" && pickError) || nestedFieldMessage(name, v.errors, mutation.error),
            list: (name) => listFieldMessage(name, v.errors, mutation.error),
          }}
          principals={principals}
          paths={paths}
          pathsTruncated={pathsTruncated}
          editing={false}
        />
        <div>
          <Button type="submit" pending={mutation.isPending}>
            Grant access
          </Button>
        </div>
      </form>
    </Card>
  );
}
