"use client";
import { type FormEvent, useState } from "react";
import type { z } from "zod";
import { type AgentResponse, ZUpdateAgentRequest } from "@/lib/contract/agents";
import { Button } from "@/components/ui/button";
import { TextAreaField, TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert, Card } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import type { UpdateAgent } from "./actions";
import { isoToLocal, lines, listFieldMessage, nestedFieldMessage, localToIso } from "./form-values";

type Settings = Pick<AgentResponse, "name" | "description" | "scopes" | "expires_at">;
const formOf = (a: Settings) => ({ name: a.name, description: a.description, scopes: a.scopes.join("\n"), expires: isoToLocal(a.expires_at) });

/** Name, description, scope ceiling and expiry; only changed fields are sent (a scope change revokes tokens). */
export function AgentSettingsForm({ agent, update }: { agent: AgentResponse; update: UpdateAgent }) {
  const [f, setF] = useState(() => formOf(agent));
  const [notice, setNotice] = useState<string | null>(null);
  const v = useSchemaValidation(ZUpdateAgentRequest);
  const mutation = useAction(update, {
    onSuccess: (saved) => {
      setF(formOf(saved));
      setNotice("Settings saved.");
    },
  });
  const set = (k: keyof ReturnType<typeof formOf>) => (e: { target: { value: string } }) => setF((s) => ({ ...s, [k]: e.target.value }));
  const err = (name: string) => nestedFieldMessage(name, v.errors, mutation.error);

  function submit(e: FormEvent) {
    e.preventDefault();
    setNotice(null);
    const body: z.input<typeof ZUpdateAgentRequest> = {};
    if (f.name !== agent.name) body.name = f.name;
    if (f.description !== agent.description) body.description = f.description;
    const scopes = lines(f.scopes);
    if (scopes.join("\n") !== agent.scopes.join("\n")) body.scopes = scopes;
    if (f.expires !== isoToLocal(agent.expires_at)) body.expires_at = f.expires ? localToIso(f.expires) : null;
    if (Object.keys(body).length === 0) {
      v.clear();
      setNotice("Nothing changed.");
      return;
    }
    if (v.validate(body)) mutation.mutate({ agent_id: agent.id, body });
  }

  return (
    <Card title="Settings">
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        {mutation.error && <Alert>{mutation.error.problem.detail}</Alert>}
        {notice && !mutation.error && <Alert tone="green">{notice}</Alert>}
        <div className="grid gap-4 sm:grid-cols-2">
          <TextField label="Name" value={f.name} onChange={set("name")} maxLength={255} error={err("name")} />
          <TextField label="Expires at" type="datetime-local" value={f.expires} onChange={set("expires")} hint="In your time zone; empty = never." error={err("expires_at")} />
        </div>
        <TextField label="Description" value={f.description} onChange={set("description")} maxLength={2000} error={err("description")} />
        <TextAreaField
          label="Scopes"
          value={f.scopes}
          onChange={set("scopes")}
          rows={3}
          hint="Path-pattern ceiling, one per line; empty = derived from policies. Changing it revokes the agent's tokens."
          error={listFieldMessage("scopes", v.errors, mutation.error)}
        />
        <div>
          <Button type="submit" pending={mutation.isPending}>
            Save settings
          </Button>
        </div>
      </form>
    </Card>
  );
}
