import { z } from "@hono/zod-openapi";
import { ZUserAuthMethod } from "./auth";
import { ZEmail, ZUuid } from "./common";
import { ZDisplayName } from "./names";

export const ZOrgRole = z.enum(["owner", "admin", "member"]);


export const ZMember = z
  .object({
    id: ZUuid,
    email: z.string(),
    display_name: z.string(),
    role: ZOrgRole,
    auth_method: ZUserAuthMethod,
    totp_enabled: z.boolean(),
    created_at: z.string(),
  })
  .openapi("Member");

export const ZMemberListResponse = z.object({ members: z.array(ZMember) }).openapi("MemberList");

export const ZUpdateMemberRequest = z.strictObject({ role: ZOrgRole }).openapi("UpdateMemberRequest");

export const ZUserIdParam = z.object({ user_id: ZUuid.openapi({ param: { name: "user_id", in: "path" } }) });

export const ZCreateInvitationRequest = z
  .strictObject({ email: ZEmail, role: ZOrgRole.default("member") })
  .openapi("CreateInvitationRequest");

export const ZInvitation = z
  .object({
    id: ZUuid,
    email: z.string(),
    role: ZOrgRole,
    status: z.enum(["pending", "accepted", "expired"]),
    invited_by: z.string().openapi({ description: "`user:<id>` of the inviting owner or admin" }),
    expires_at: z.string(),
    accepted_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("Invitation");

export const ZInvitationListResponse = z.object({ invitations: z.array(ZInvitation) }).openapi("InvitationList");

export const ZAcceptInvitationRequest = z
  .strictObject({
    token: z.string().min(1).max(128).openapi({ description: "The token from the invitation email" }),
    password: z.string().min(12, { message: "must be at least 12 characters" }).max(256).optional().openapi({ format: "password" }),
    display_name: ZDisplayName.optional(),
  })
  .openapi("AcceptInvitationRequest");

export type MemberResponse = z.infer<typeof ZMember>;
export type UpdateMemberRequest = z.infer<typeof ZUpdateMemberRequest>;
export type CreateInvitationRequest = z.infer<typeof ZCreateInvitationRequest>;
export type InvitationResponse = z.infer<typeof ZInvitation>;
export type AcceptInvitationRequest = z.infer<typeof ZAcceptInvitationRequest>;
