import type { z } from "zod";
import type { AgentResponse, CreateAgentResponse, ZCreateAgentRequest, ZUpdateAgentRequest } from "@/lib/contract/agents";
import type { ActionResult } from "@/lib/dashboard/action-result";

/** The server actions the agent pages hand to these components (defined in app/(dashboard)/agents/actions.ts). */
export type RegisterAgent = (input: z.input<typeof ZCreateAgentRequest>) => Promise<ActionResult<CreateAgentResponse>>;
export type UpdateAgent = (input: { agent_id: string; body: z.input<typeof ZUpdateAgentRequest> }) => Promise<ActionResult<AgentResponse>>;
export type RotateAgentKey = (input: { agent_id: string }) => Promise<ActionResult<{ api_key: string }>>;
export type DeleteAgent = (input: { agent_id: string }) => Promise<ActionResult<null>>;
