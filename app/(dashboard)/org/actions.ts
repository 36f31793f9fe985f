"use server";
import { z } from "zod";
import { ZUuid } from "@/lib/contract/common";
import { ZCreateInvitationRequest, ZUpdateMemberRequest } from "@/lib/contract/org";
import { userAction } from "@/server/dashboard/context";
import { createInvitation, revokeInvitation } from "@/server/org/invitations";
import { removeMember, updateMemberRole } from "@/server/org/members";

const ZChangeRole = z.strictObject({ user_id: ZUuid, body: ZUpdateMemberRequest });
const ZMemberRef = z.strictObject({ user_id: ZUuid });
const ZInvitationRef = z.strictObject({ invitation_id: ZUuid });

export async function changeMemberRoleAction(input: z.input<typeof ZChangeRole>) {
  return userAction(ZChangeRole, input, (ctx, d) => updateMemberRole(ctx, d.user_id, d.body));
}

export async function removeMemberAction(input: z.input<typeof ZMemberRef>) {
  return userAction(ZMemberRef, input, async (ctx, d) => {
    await removeMember(ctx, d.user_id);
    return null;
  });
}

export async function inviteMemberAction(input: z.input<typeof ZCreateInvitationRequest>) {
  return userAction(ZCreateInvitationRequest, input, (ctx, d) => createInvitation(ctx, d));
}

export async function revokeInvitationAction(input: z.input<typeof ZInvitationRef>) {
  return userAction(ZInvitationRef, input, async (ctx, d) => {
    await revokeInvitation(ctx, d.invitation_id);
    return null;
  });
}
