import { seg, type SdkResponse, type Transport } from "../client";
import type { AcceptInvitationInput, CreateInvitationInput, Invitation, InvitationList, Member, MemberList, OrgRole, TokenResult } from "../types";

export function orgResource(t: Transport) {
  return {
    listMembers: (): Promise<SdkResponse<MemberList>> => t.request("GET", "/v1/org/members"),
    updateMemberRole: (userId: string, role: OrgRole): Promise<SdkResponse<Member>> =>
      t.request("PATCH", `/v1/org/members/${seg(userId)}`, { body: { role } }),
    removeMember: (userId: string): Promise<SdkResponse<null>> => t.request("DELETE", `/v1/org/members/${seg(userId)}`),
    invite: (input: CreateInvitationInput): Promise<SdkResponse<Invitation>> => t.request("POST", "/v1/org/invitations", { body: input }),
    listInvitations: (): Promise<SdkResponse<InvitationList>> => t.request("GET", "/v1/org/invitations"),
    revokeInvitation: (invitationId: string): Promise<SdkResponse<null>> => t.request("DELETE", `/v1/org/invitations/${seg(invitationId)}`),
    /** Creates the invited account and answers its first token pair (not adopted by this client). */
    acceptInvitation: (input: AcceptInvitationInput): Promise<SdkResponse<TokenResult>> =>
      t.request("POST", "/v1/org/invitations/accept", { auth: false, body: input }),
  };
}
