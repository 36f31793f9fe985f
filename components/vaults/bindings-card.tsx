"use client";
import { useState } from "react";
import type { BindingResponse } from "@/lib/contract/bindings";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { Button } from "@/components/ui/button";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { Badge, Card, EmptyState, Table, cellClass } from "@/components/ui/layout";
import { type CreateBinding, CreateBindingForm } from "./bindings-form";
import type { BindingRefInput } from "./bindings-schemas";

export type BindingActions = { create: CreateBinding; remove: (input: BindingRefInput) => Promise<ActionResult<null>> };

const injectText = (b: BindingResponse) => {
  const i = b.inject;
  switch (i.kind) {
    case "bearer":
      return "Bearer token";
    case "header":
      return `Header ${i.header_name}`;
    case "query":
      return `Query ?${i.param_name}=`;
    case "basic":
      return `Basic auth as ${i.username}`;
    case "env_field":
      return `env_bundle ${i.field}`;
  }
};

const destination = (b: BindingResponse) => `${b.scheme}://${b.host}:${b.port}${b.path_prefix}`;

/**
 * The vault's credential-injecting bindings: agents holding `use` on a binding's secret path call
 * its destination through Talon (execute_http) and never see the value.
 */
export function BindingsCard({ vaultId, bindings, actions, problem }: { vaultId: string; bindings: BindingResponse[]; actions: BindingActions; problem: string | null }) {
  const [creating, setCreating] = useState(false);
  return (
    <Card
      title="Bindings"
      description="Let agents call an API with a secret from this vault without ever seeing it: Talon injects the value, makes the request and redacts the answer."
      actions={
        !creating && (
          <Button variant="secondary" onClick={() => setCreating(true)}>
            New binding
          </Button>
        )
      }
    >
      <div className="flex flex-col gap-6">
        {creating && (
          <div className="flex flex-col gap-3">
            <CreateBindingForm vaultId={vaultId} create={actions.create} onDone={() => setCreating(false)} />
            <div>
              <Button variant="ghost" onClick={() => setCreating(false)}>
                Cancel
              </Button>
            </div>
          </div>
        )}
        {problem ? (
          <p className="text-sm text-zinc-400">{problem}</p>
        ) : bindings.length === 0 ? (
          <EmptyState title="No bindings">Create one to let agents use a credential for one API (host, path prefix and methods) without reading it.</EmptyState>
        ) : (
          <Table label="Bindings" head={["Name", "Destination", "Secret", "Injected as", <span key="a" className="sr-only">Actions</span>]}>
            {bindings.map((b) => (
              <tr key={b.id}>
                <td className={`${cellClass} text-zinc-100`}>
                  {b.name}
                  {b.internal && (
                    <span className="ml-2">
                      <Badge tone="amber">internal</Badge>
                    </span>
                  )}
                </td>
                <td className={`${cellClass} break-all font-mono text-xs text-zinc-300`}>
                  {destination(b)}
                  <div className="text-zinc-500">{b.methods.join(", ")}</div>
                </td>
                <td className={`${cellClass} break-all font-mono text-xs text-zinc-300`}>{b.secret_path}</td>
                <td className={`${cellClass} text-zinc-300`}>{injectText(b)}</td>
                <td className={`${cellClass} text-right`}>
                  <ConfirmAction label="Delete" title={`Delete the binding ${b.name}?`} confirmLabel="Delete binding" variant="secondary" action={actions.remove} input={{ vault_id: vaultId, binding_id: b.id }}>
                    <p>Agents can no longer call {destination(b)} through it. The secret itself stays.</p>
                  </ConfirmAction>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </div>
    </Card>
  );
}
