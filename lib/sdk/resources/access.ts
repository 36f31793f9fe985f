import { seg, type SdkResponse, type Transport } from "../client";
import type { CreatePolicyInput, Policy, PolicyList, PolicyPermission, UpdatePolicyInput } from "../types";

export type GrantOptions = {
  /** Secret path pattern (`api-keys/*`, `db/**`); default `**`. */
  path?: string;
  conditions?: CreatePolicyInput["conditions"];
  expires_at?: string | null;
  effect?: CreatePolicyInput["effect"];
  priority?: number;
};

export function accessResource(t: Transport) {
  const grant = (principal_type: "user" | "agent", vaultId: string, principalId: string, permissions: PolicyPermission[], options: GrantOptions = {}) => {
    const { path, ...rest } = options;
    const body: CreatePolicyInput = { principal_type, principal_id: principalId, permissions, secret_path_pattern: path ?? "**", ...rest };
    return t.request<Policy>("POST", `/v1/vaults/${seg(vaultId)}/policies`, { body });
  };
  return {
    grantAgent: (vaultId: string, agentId: string, permissions: PolicyPermission[], options?: GrantOptions): Promise<SdkResponse<Policy>> =>
      grant("agent", vaultId, agentId, permissions, options),
    grantHuman: (vaultId: string, userId: string, permissions: PolicyPermission[], options?: GrantOptions): Promise<SdkResponse<Policy>> =>
      grant("user", vaultId, userId, permissions, options),
    listGrants: (vaultId: string): Promise<SdkResponse<PolicyList>> => t.request("GET", `/v1/vaults/${seg(vaultId)}/policies`),
    update: (vaultId: string, policyId: string, input: UpdatePolicyInput): Promise<SdkResponse<Policy>> =>
      t.request("PUT", `/v1/vaults/${seg(vaultId)}/policies/${seg(policyId)}`, { body: input }),
    revoke: (vaultId: string, policyId: string): Promise<SdkResponse<null>> => t.request("DELETE", `/v1/vaults/${seg(vaultId)}/policies/${seg(policyId)}`),
  };
}
