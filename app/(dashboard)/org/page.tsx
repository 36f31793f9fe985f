import { InviteForm, PendingInvitations } from "@/components/org/invitations";
import { MembersTable } from "@/components/org/members-table";
import { CreateWebhookForm, WebhooksTable } from "@/components/org/webhooks";
import { Card, PageHeader } from "@/components/ui/layout";
import { pageCtx } from "@/server/dashboard/context";
import { listInvitations } from "@/server/org/invitations";
import { listMembers } from "@/server/org/members";
import { listWebhooks } from "@/server/webhooks/service";
import { changeMemberRoleAction, inviteMemberAction, removeMemberAction, revokeInvitationAction } from "./actions";
import { createWebhookAction, deleteWebhookAction, testWebhookAction } from "./webhook-actions";

export const dynamic = "force-dynamic";

export default async function OrgPage() {
  const ctx = await pageCtx();
  const { role, userId } = ctx.principal;
  const manages = role === "owner" || role === "admin";
  const [{ members }, invitations, hooks] = await Promise.all([listMembers(ctx), manages ? listInvitations(ctx) : null, manages ? listWebhooks(ctx) : null]);
  const pending = invitations?.invitations.filter((i) => i.status === "pending") ?? [];
  return (
    <>
      <PageHeader title="Organisation" description="The people in your organisation and what they may do." />
      <Card title="Members" description={`${members.length} ${members.length === 1 ? "person" : "people"}. You are ${role === "member" ? "a" : "an"} ${role}.`}>
        <MembersTable members={members} currentUserId={userId} callerRole={role} changeRole={changeMemberRoleAction} removeMember={removeMemberAction} />
      </Card>
      {manages && (
        <>
          <Card title="Invite someone" description="They get an email with a link to create their account in this organisation.">
            <InviteForm invite={inviteMemberAction} callerRole={role} />
          </Card>
          <Card title="Pending invitations">
            <PendingInvitations invitations={pending} revoke={revokeInvitationAction} />
          </Card>
          <Card title="Webhooks" description="Signed HTTP deliveries of this organisation's audit events and secret changes (docs/operations/webhooks.md).">
            <div className="flex flex-col gap-6">
              <WebhooksTable webhooks={hooks?.webhooks ?? []} remove={deleteWebhookAction} sendTest={testWebhookAction} />
              <CreateWebhookForm create={createWebhookAction} />
            </div>
          </Card>
        </>
      )}
    </>
  );
}
