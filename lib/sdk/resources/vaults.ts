import { seg, type SdkResponse, type Transport } from "../client";
import type { CreateVaultInput, Vault, VaultList } from "../types";

export function vaultsResource(t: Transport) {
  return {
    create: (input: CreateVaultInput): Promise<SdkResponse<Vault>> => t.request("POST", "/v1/vaults", { body: input }),
    get: (vaultId: string): Promise<SdkResponse<Vault>> => t.request("GET", `/v1/vaults/${seg(vaultId)}`),
    list: (): Promise<SdkResponse<VaultList>> => t.request("GET", "/v1/vaults"),
    delete: (vaultId: string): Promise<SdkResponse<null>> => t.request("DELETE", `/v1/vaults/${seg(vaultId)}`),
  };
}
