"use client";
import { useState } from "react";
import type { MemberResponse } from "@/lib/contract/org";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { Button } from "@/components/ui/button";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { Dialog } from "@/components/ui/dialog";
import { SelectField } from "@/components/ui/field";
import { Alert, Badge, Table, cellClass, formatDate } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";

type Role = MemberResponse["role"];
type ChangeRole = (input: { user_id: string; body: { role: Role } }) => Promise<ActionResult<MemberResponse>>;
type RemoveMember = (input: { user_id: string }) => Promise<ActionResult<null>>;

export const ROLE_OPTIONS: { value: Role; label: string }[] = [
  { value: "member", label: "Member" },
  { value: "admin", label: "Admin" },
  { value: "owner", label: "Owner" },
];
const ROLE_TONE = { owner: "amber", admin: "blue", member: "neutral" } as const;

/**
 * The org's people. Only owners change roles; owners remove anyone else, admins remove members (the
 * services enforce the same, and their refusals, such as "last owner", are shown in the dialog).
 */
export function MembersTable({
  members,
  currentUserId,
  callerRole,
  changeRole,
  removeMember,
}: {
  members: MemberResponse[];
  currentUserId: string;
  callerRole: Role;
  changeRole: ChangeRole;
  removeMember: RemoveMember;
}) {
  const canRemove = (target: Role) => callerRole === "owner" || (callerRole === "admin" && target === "member");
  return (
    <Table label="Members" head={["Member", "Role", "Joined", <span key="a" className="sr-only">Actions</span>]}>
      {members.map((m) => {
        const self = m.id === currentUserId;
        return (
          <tr key={m.id}>
            <td className={cellClass}>
              <p className="font-medium text-zinc-100">
                {m.display_name || m.email} {self && <Badge>You</Badge>}
              </p>
              {m.display_name && <p className="text-xs text-zinc-500">{m.email}</p>}
            </td>
            <td className={cellClass}>
              <Badge tone={ROLE_TONE[m.role]}>{m.role}</Badge>
            </td>
            <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(m.created_at)}</td>
            <td className={`${cellClass} text-right`}>
              {!self && (
                <div className="flex justify-end gap-2">
                  {callerRole === "owner" && <ChangeRoleButton member={m} changeRole={changeRole} />}
                  {canRemove(m.role) && <RemoveMemberButton member={m} removeMember={removeMember} />}
                </div>
              )}
            </td>
          </tr>
        );
      })}
    </Table>
  );
}

function ChangeRoleButton({ member, changeRole }: { member: MemberResponse; changeRole: ChangeRole }) {
  const [open, setOpen] = useState(false);
  const [role, setRole] = useState<Role>(member.role);
  const mutation = useAction(changeRole, { onSuccess: () => setOpen(false) });
  function show() {
    setRole(member.role);
    mutation.reset();
    setOpen(true);
  }
  return (
    <>
      <Button variant="secondary" className="whitespace-nowrap" onClick={show}>
        Change role
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title={`Change the role of ${member.email}`}>
        <form
          className="flex flex-col gap-4"
          onSubmit={(e) => {
            e.preventDefault();
            mutation.mutate({ user_id: member.id, body: { role } });
          }}
        >
          <SelectField
            label="Role"
            value={role}
            onChange={(e) => setRole(e.target.value as Role)}
            options={ROLE_OPTIONS}
            hint="Owners change roles; owners and admins invite and remove members and manage IP rules. The member's dashboard sessions and access tokens end at once, so the new role applies immediately."
          />
          {mutation.error && <Alert>{mutation.error.problem.detail}</Alert>}
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" pending={mutation.isPending} disabled={role === member.role}>
              Save role
            </Button>
          </div>
        </form>
      </Dialog>
    </>
  );
}

function RemoveMemberButton({ member, removeMember }: { member: MemberResponse; removeMember: RemoveMember }) {
  return (
    <ConfirmAction label="Remove" title={`Remove ${member.email}?`} confirmLabel="Remove member" action={removeMember} input={{ user_id: member.id }}>
      <p>
        Their account is deleted with their API keys and sessions. Vaults and secrets they created stay with the organisation; the agents they registered
        are deactivated at once, and an owner or admin can reassign or reactivate them on the Agents page.
      </p>
    </ConfirmAction>
  );
}
