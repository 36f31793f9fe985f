import { seg, type SdkResponse, type Transport } from "../client";
import type { Agent, AgentList, AgentSelf, CreateAgentInput, CreatedAgent, RotatedAgentKey, UpdateAgentInput } from "../types";

export function agentsResource(t: Transport) {
  return {
    /** `data.api_key` (`ocv_…`, api_key agents) is shown only in this response. */
    create: (input: CreateAgentInput): Promise<SdkResponse<CreatedAgent>> => t.request("POST", "/v1/agents", { body: input }),
    get: (agentId: string): Promise<SdkResponse<Agent>> => t.request("GET", `/v1/agents/${seg(agentId)}`),
    /** The calling agent itself. */
    me: (): Promise<SdkResponse<AgentSelf>> => t.request("GET", "/v1/agents/me"),
    list: (): Promise<SdkResponse<AgentList>> => t.request("GET", "/v1/agents"),
    update: (agentId: string, input: UpdateAgentInput): Promise<SdkResponse<Agent>> => t.request("PATCH", `/v1/agents/${seg(agentId)}`, { body: input }),
    delete: (agentId: string): Promise<SdkResponse<null>> => t.request("DELETE", `/v1/agents/${seg(agentId)}`),
    /** The old key stops working at once. */
    rotateKey: (agentId: string): Promise<SdkResponse<RotatedAgentKey>> => t.request("POST", `/v1/agents/${seg(agentId)}/rotate-key`),
  };
}
