"use client";
import { type FormEvent, useState } from "react";
import type { AgentResponse } from "@/lib/contract/agents";
import { Button } from "@/components/ui/button";
import { SelectField } from "@/components/ui/field";
import { Alert } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import type { UpdateAgent } from "./actions";

export type MemberOption = { id: string; label: string };

/**
 * Who answers for the agent. Owners and admins hand an agent to another member — typically one whose
 * registering member was removed; reactivating it is the Access card's own button.
 */
export function AgentOwnerForm({ agent, members, update }: { agent: AgentResponse; members: MemberOption[]; update: UpdateAgent }) {
  const current = members.some((m) => m.id === agent.created_by) ? agent.created_by : "";
  const [to, setTo] = useState(current);
  const mutation = useAction(update);
  const options = [...(current ? [] : [{ value: "", label: "A removed member (choose someone)" }]), ...members.map((m) => ({ value: m.id, label: m.label }))];

  function submit(e: FormEvent) {
    e.preventDefault();
    if (to) mutation.mutate({ agent_id: agent.id, body: { created_by: to } });
  }

  return (
    <form onSubmit={submit} className="flex flex-col gap-3" noValidate>
      {mutation.error && <Alert>{mutation.error.problem.detail}</Alert>}
      <SelectField
        label="Registered by"
        value={to}
        onChange={(e) => setTo(e.target.value)}
        options={options}
        hint="The member who answers for this agent: they can change, rotate and deactivate it."
      />
      <div>
        <Button type="submit" variant="secondary" pending={mutation.isPending} disabled={!to || to === agent.created_by}>
          Reassign
        </Button>
      </div>
    </form>
  );
}
