"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import type { AgentResponse } from "@/lib/contract/agents";
import { Button } from "@/components/ui/button";
import { ConfirmButton } from "@/components/ui/dialog";
import { Alert, Card } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import { AgentKeyPanel, type VaultOption } from "./agent-key-panel";
import { AgentOwnerForm, type MemberOption } from "./agent-owner";
import type { DeleteAgent, RotateAgentKey, UpdateAgent } from "./actions";

/**
 * Deactivate/reactivate (with the reason it was deactivated), rotate the key (shown once), delete;
 * for owners and admins (`members` given), reassign the agent to another member.
 */
export function AgentControls({
  agent,
  update,
  rotate,
  remove,
  vaults,
  publicUrl,
  members,
}: {
  agent: AgentResponse;
  update: UpdateAgent;
  rotate: RotateAgentKey;
  remove: DeleteAgent;
  vaults: VaultOption[];
  publicUrl: string;
  members?: MemberOption[];
}) {
  const router = useRouter();
  const [newKey, setNewKey] = useState<string | null>(null);
  const [rotateOpen, setRotateOpen] = useState(false);
  const [deleteOpen, setDeleteOpen] = useState(false);
  const toggle = useAction(update);
  const rotation = useAction(rotate, {
    onSuccess: (r) => setNewKey(r.api_key),
  });
  // No refresh: the page would 404 before the navigation away.
  const deletion = useAction(remove, { refresh: false, onSuccess: () => router.push("/agents") });
  const error = toggle.error ?? rotation.error ?? deletion.error;

  return (
    <Card title="Access" description={agent.is_active ? "The agent can authenticate." : "The agent is deactivated: its key and tokens are refused."}>
      <div className="flex flex-col gap-4">
        {error && <Alert>{error.problem.detail}</Alert>}
        {!agent.is_active && agent.deactivated_reason && (
          <Alert tone="amber" title="Deactivated">
            Reason: {agent.deactivated_reason}.
          </Alert>
        )}
        {newKey && (
          <AgentKeyPanel
            agentId={agent.id}
            agentName={agent.name}
            apiKey={newKey}
            vaults={vaults}
            boundVaultIds={agent.vault_ids}
            publicUrl={publicUrl}
            onDismiss={() => setNewKey(null)}
          />
        )}
        <div className="flex flex-wrap gap-2">
          {agent.is_active ? (
            <Button variant="secondary" pending={toggle.isPending} onClick={() => toggle.mutate({ agent_id: agent.id, body: { is_active: false } })}>
              Deactivate
            </Button>
          ) : (
            <Button pending={toggle.isPending} onClick={() => toggle.mutate({ agent_id: agent.id, body: { is_active: true } })}>
              Reactivate
            </Button>
          )}
          {agent.auth_method === "api_key" && (
            <ConfirmButton
              label="Rotate key"
              title={`Rotate ${agent.name}'s API key?`}
              confirmLabel="Rotate now"
              variant="secondary"
              open={rotateOpen}
              setOpen={setRotateOpen}
              pending={rotation.isPending}
              onConfirm={() => rotation.mutate({ agent_id: agent.id }, { onSettled: () => setRotateOpen(false) })}
            >
              The current key and every token issued with it stop working at once. The new key is shown once.
            </ConfirmButton>
          )}
          <ConfirmButton
            label="Delete agent"
            title={`Delete ${agent.name}?`}
            confirmLabel="Delete permanently"
            open={deleteOpen}
            setOpen={setDeleteOpen}
            pending={deletion.isPending}
            onConfirm={() => deletion.mutate({ agent_id: agent.id }, { onError: () => setDeleteOpen(false) })}
          >
            The agent, its policies and its SSH key are removed; its key and tokens fail from the next request. This cannot be undone.
          </ConfirmButton>
        </div>
        {members && <AgentOwnerForm agent={agent} members={members} update={update} />}
      </div>
    </Card>
  );
}
