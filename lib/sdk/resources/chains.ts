import type { z } from "@hono/zod-openapi";
import type { ZChainListResponse, ZChainResponse } from "../../contract/chains";
import { seg, type SdkResponse, type Transport } from "../client";

export type Chain = z.infer<typeof ZChainResponse>;
export type ChainList = z.infer<typeof ZChainListResponse>;

export function chainsResource(t: Transport) {
  return {
    list: (): Promise<SdkResponse<ChainList>> => t.request("GET", "/v1/chains"),
    /** By name (case-insensitive) or numeric chain id. */
    get: (identifier: string | number): Promise<SdkResponse<Chain>> => t.request("GET", `/v1/chains/${seg(String(identifier))}`),
  };
}
