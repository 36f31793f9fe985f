"use server";
import { z } from "zod";
import { ZCreateAgentRequest, ZUpdateAgentRequest } from "@/lib/contract/agents";
import { ZUuid } from "@/lib/contract/common";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { createAgent, deleteAgent, rotateAgentKey, updateAgent } from "@/server/agents/service";
import { userAction } from "@/server/dashboard/context";
import { type TestAgentAccessInput, ZTestAgentAccessInput } from "@/lib/contract/agent-reach";
import { testAgentAccess } from "@/server/agents/reach";

const ZAgentRef = z.strictObject({ agent_id: ZUuid });
const ZUpdateAgentInput = z.strictObject({ agent_id: ZUuid, body: ZUpdateAgentRequest });

export type RegisterAgentInput = z.input<typeof ZCreateAgentRequest>;
export type UpdateAgentInput = z.input<typeof ZUpdateAgentInput>;
export type AgentRefInput = z.input<typeof ZAgentRef>;

/** The response carries the `ocv_` key once; the page shows it in the key panel and nowhere else. */
export async function registerAgentAction(input: RegisterAgentInput) {
  return userAction(ZCreateAgentRequest, input, (ctx, body) => createAgent(ctx, body));
}

export async function updateAgentAction(input: UpdateAgentInput) {
  return userAction(ZUpdateAgentInput, input, (ctx, d) => updateAgent(ctx, d.agent_id, d.body));
}

export async function rotateAgentKeyAction(input: AgentRefInput) {
  return userAction(ZAgentRef, input, (ctx, d) => rotateAgentKey(ctx, d.agent_id));
}

export async function deleteAgentAction(input: AgentRefInput): Promise<ActionResult<null>> {
  return userAction(ZAgentRef, input, async (ctx, d) => {
    await deleteAgent(ctx, d.agent_id);
    return null;
  });
}

/** "Test access" on the agent's page: the enforcing decision for one path, as the agent would meet it. */
export async function testAgentAccessAction(input: TestAgentAccessInput) {
  return userAction(ZTestAgentAccessInput, input, (ctx, d) => testAgentAccess(ctx, { agentId: d.agent_id, vaultId: d.vault_id, path: d.path }));
}
