import { seg, type SdkResponse, type Transport } from "../client";
import type { BindingResponse, CreateBindingInput, UpdateBindingRequest, ZBindingList } from "../../contract/bindings";
import type { z } from "@hono/zod-openapi";

type BindingList = z.infer<typeof ZBindingList>;

/**
 * Credential-injecting bindings of a vault (humans manage them; an agent lists those it may use and
 * calls them with `agents.execute`).
 */
export function bindingsResource(t: Transport) {
  const base = (vaultId: string) => `/v1/vaults/${seg(vaultId)}/bindings`;
  return {
    list: (vaultId: string): Promise<SdkResponse<BindingList>> => t.request("GET", base(vaultId)),
    get: (vaultId: string, bindingId: string): Promise<SdkResponse<BindingResponse>> => t.request("GET", `${base(vaultId)}/${seg(bindingId)}`),
    create: (vaultId: string, input: CreateBindingInput): Promise<SdkResponse<BindingResponse>> => t.request("POST", base(vaultId), { body: input }),
    update: (vaultId: string, bindingId: string, input: UpdateBindingRequest): Promise<SdkResponse<BindingResponse>> =>
      t.request("PATCH", `${base(vaultId)}/${seg(bindingId)}`, { body: input }),
    delete: (vaultId: string, bindingId: string): Promise<SdkResponse<null>> => t.request("DELETE", `${base(vaultId)}/${seg(bindingId)}`),
  };
}
