import { seg, type SdkResponse, type Transport } from "../client";
import type { Agent, AgentList, AgentSelf, CreateAgentInput, CreatedAgent, RotatedAgentKey, UpdateAgentInput } from "../types";
import type {
  SimulateTransactionRequest,
  SimulationResponse,
  SubmitTransactionRequest,
  TransactionResponse,
  ZSimulationBundle,
  ZTransactionList,
} from "../../contract/transactions";
import type { ExecuteRequestInput, ExecuteResponse } from "../../contract/bindings";
import type { z } from "@hono/zod-openapi";

type SimulationBundle = z.infer<typeof ZSimulationBundle>;
type TransactionList = z.infer<typeof ZTransactionList>;

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
    /** Crypto proxy: Talon checks guardrails, simulates (unless simulate_first is false), signs and broadcasts. */
    submitTransaction: (agentId: string, input: SubmitTransactionRequest, opts: { idempotencyKey?: string } = {}): Promise<SdkResponse<TransactionResponse>> =>
      t.request("POST", `/v1/agents/${seg(agentId)}/transactions`, { body: input, headers: opts.idempotencyKey ? { "Idempotency-Key": opts.idempotencyKey } : undefined }),
    /** Runs the transaction on the chain's node without signing: status, gas, balance changes, revert reason. */
    simulateTransaction: (agentId: string, input: SimulateTransactionRequest): Promise<SdkResponse<SimulationResponse>> =>
      t.request("POST", `/v1/agents/${seg(agentId)}/transactions/simulate`, { body: input }),
    /** Simulates transactions in order; `state_carried` says whether each saw the previous ones' effects. */
    simulateBundle: (agentId: string, bundle: SimulateTransactionRequest[] | { transactions: SimulateTransactionRequest[] }): Promise<SdkResponse<SimulationBundle>> =>
      t.request("POST", `/v1/agents/${seg(agentId)}/transactions/simulate-bundle`, { body: Array.isArray(bundle) ? { transactions: bundle } : bundle }),
    getTransaction: (agentId: string, txId: string, opts: { includeSignedTx?: boolean } = {}): Promise<SdkResponse<TransactionResponse>> =>
      t.request("GET", `/v1/agents/${seg(agentId)}/transactions/${seg(txId)}`, { query: opts.includeSignedTx ? { include_signed_tx: "true" } : undefined }),
    /** Newest first. */
    listTransactions: (agentId: string, opts: { limit?: number; offset?: number } = {}): Promise<SdkResponse<TransactionList>> =>
      t.request("GET", `/v1/agents/${seg(agentId)}/transactions`, { query: opts }),
    /**
     * An HTTP request through a binding, made by Talon with the binding's secret injected; the answer
     * comes back with every known secret value redacted. The agent itself only (its own id).
     */
    execute: (agentId: string, input: ExecuteRequestInput): Promise<SdkResponse<ExecuteResponse>> =>
      t.request("POST", `/v1/agents/${seg(agentId)}/execute`, { body: input }),
  };
}
