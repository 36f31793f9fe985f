"use client";
import { useState } from "react";
import { type CreateInvitationRequest, type InvitationResponse, ZCreateInvitationRequest } from "@/lib/contract/org";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { Button } from "@/components/ui/button";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { SelectField, TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert, EmptyState, Table, cellClass, formatDate } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";
import { ROLE_OPTIONS } from "./members-table";

type Role = InvitationResponse["role"];
type Invite = (input: CreateInvitationRequest) => Promise<ActionResult<InvitationResponse>>;
type RevokeInvitation = (input: { invitation_id: string }) => Promise<ActionResult<null>>;

/** Invites by email; only owners may hand out the owner role, so admins are not offered it. */
export function InviteForm({ invite, callerRole }: { invite: Invite; callerRole: Role }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [sentTo, setSentTo] = useState<string | null>(null);
  const v = useSchemaValidation(ZCreateInvitationRequest);
  const mutation = useAction(invite, {
    onSuccess: (inv) => {
      setSentTo(inv.email);
      setEmail("");
      setRole("member");
    },
  });
  const options = ROLE_OPTIONS.filter((o) => callerRole === "owner" || o.value !== "owner");
  return (
    <form
      noValidate
      className="flex flex-col gap-4"
      onSubmit={(e) => {
        e.preventDefault();
        setSentTo(null);
        const data = v.validate({ email, role });
        if (data) mutation.mutate(data);
      }}
    >
      <div className="grid gap-4 sm:grid-cols-[1fr_12rem]">
        <TextField
          label="Email address"
          type="email"
          autoComplete="off"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={fieldMessage("email", v.errors, mutation.error)}
        />
        <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as Role)} options={options} error={fieldMessage("role", v.errors, mutation.error)} />
      </div>
      {mutation.error && !mutation.error.problem.fields?.length && <Alert>{mutation.error.problem.detail}</Alert>}
      {sentTo && <Alert tone="green">Invitation sent to {sentTo}. The link in the email is valid for 7 days.</Alert>}
      <div>
        <Button type="submit" pending={mutation.isPending}>
          Send invitation
        </Button>
      </div>
    </form>
  );
}

export function PendingInvitations({ invitations, revoke }: { invitations: InvitationResponse[]; revoke: RevokeInvitation }) {
  if (invitations.length === 0) return <EmptyState title="No pending invitations">Invitations you send appear here until they are accepted, revoked or expire.</EmptyState>;
  return (
    <Table label="Pending invitations" head={["Email", "Role", "Sent", "Expires", <span key="a" className="sr-only">Actions</span>]}>
      {invitations.map((inv) => (
        <tr key={inv.id}>
          <td className={`${cellClass} break-all text-zinc-100`}>{inv.email}</td>
          <td className={`${cellClass} text-zinc-300`}>{inv.role}</td>
          <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(inv.created_at)}</td>
          <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(inv.expires_at)}</td>
          <td className={`${cellClass} text-right`}>
            <RevokeInvitationButton invitation={inv} revoke={revoke} />
          </td>
        </tr>
      ))}
    </Table>
  );
}

function RevokeInvitationButton({ invitation, revoke }: { invitation: InvitationResponse; revoke: RevokeInvitation }) {
  return (
    <ConfirmAction
      label="Revoke"
      title={`Revoke the invitation for ${invitation.email}?`}
      confirmLabel="Revoke invitation"
      variant="secondary"
      action={revoke}
      input={{ invitation_id: invitation.id }}
    >
      <p>The link in the invitation email stops working at once. You can invite the address again later.</p>
    </ConfirmAction>
  );
}
