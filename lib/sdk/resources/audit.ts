import type { SdkResponse, Transport } from "../client";
import type { AuditEventList, AuditQueryInput, AuditVerify } from "../types";

export function auditResource(t: Transport) {
  return {
    query: (params: AuditQueryInput = {}): Promise<SdkResponse<AuditEventList>> => t.request("GET", "/v1/audit/events", { query: params }),
    /** Recomputes the organisation's hash chain. */
    verify: (): Promise<SdkResponse<AuditVerify>> => t.request("GET", "/v1/audit/verify"),
  };
}
