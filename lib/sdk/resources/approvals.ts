import type { z } from "@hono/zod-openapi";
import type * as approvals from "../../contract/approvals";
import { seg, type SdkResponse, type Transport } from "../client";

export type Approval = z.infer<typeof approvals.ZApprovalResponse>;
export type ApprovalList = z.infer<typeof approvals.ZApprovalListResponse>;
export type ApprovalListQuery = Partial<z.infer<typeof approvals.ZApprovalListQuery>>;
export type ApproveInput = z.input<typeof approvals.ZApproveRequest>;
export type BreakGlassInput = z.input<typeof approvals.ZBreakGlassRequest>;

/**
 * Approval requests (issue 14): an agent polls its own (`get`) after a 403 `approval_required`
 * (the problem's `approval_request_id`); people list, approve (once or for `duration_seconds`) and
 * deny; owners and admins break glass on a vault.
 */
export function approvalsResource(t: Transport) {
  return {
    list: (query: ApprovalListQuery = {}): Promise<SdkResponse<ApprovalList>> => t.request("GET", "/v1/approvals", { query }),
    get: (id: string): Promise<SdkResponse<Approval>> => t.request("GET", `/v1/approvals/${seg(id)}`),
    approve: (id: string, input: ApproveInput = {}): Promise<SdkResponse<Approval>> => t.request("POST", `/v1/approvals/${seg(id)}/approve`, { body: input }),
    deny: (id: string, note?: string): Promise<SdkResponse<Approval>> => t.request("POST", `/v1/approvals/${seg(id)}/deny`, { body: note === undefined ? {} : { note } }),
    breakGlass: (vaultId: string, input: BreakGlassInput): Promise<SdkResponse<Approval>> => t.request("POST", `/v1/vaults/${seg(vaultId)}/break-glass`, { body: input }),
  };
}
