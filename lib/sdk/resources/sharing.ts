import { seg, type SdkResponse, type Transport } from "../client";
import type { CreateShareInput, ShareCreated, SharedSecret, ShareList } from "../types";

export function sharingResource(t: Transport) {
  const answer = (shareId: string, verb: "accept" | "decline"): Promise<SdkResponse<null>> => t.request("POST", `/v1/shares/${seg(shareId)}/${verb}`);
  return {
    create: (secretId: string, input: CreateShareInput): Promise<SdkResponse<ShareCreated>> =>
      t.request("POST", `/v1/secrets/${seg(secretId)}/share`, { body: input }),
    /**
     * Reads a shared secret. Link shares need no credentials; user/agent shares are read with the
     * recipient's own (after `accept`). The passphrase travels in a header, never in the URL.
     */
    access: (shareId: string, options: { passphrase?: string } = {}): Promise<SdkResponse<SharedSecret>> =>
      t.request("GET", `/v1/share/${seg(shareId)}`, { headers: options.passphrase ? { "X-Share-Passphrase": options.passphrase } : {} }),
    listOutbound: (): Promise<SdkResponse<ShareList>> => t.request("GET", "/v1/shares/outbound"),
    listInbound: (): Promise<SdkResponse<ShareList>> => t.request("GET", "/v1/shares/inbound"),
    accept: (shareId: string) => answer(shareId, "accept"),
    decline: (shareId: string) => answer(shareId, "decline"),
    revoke: (shareId: string): Promise<SdkResponse<null>> => t.request("DELETE", `/v1/share/${seg(shareId)}`),
  };
}
