import { ApprovalList } from "@/components/approvals/approval-list";
import { Card, PageHeader } from "@/components/ui/layout";
import { listApprovals } from "@/server/approvals/service";
import { pageCtx } from "@/server/dashboard/context";
import { approvalStepUpOptionsAction, approveApprovalAction, denyApprovalAction } from "./actions";

export const dynamic = "force-dynamic";

export default async function ApprovalsPage() {
  const ctx = await pageCtx();
  const [pending, recent] = await Promise.all([listApprovals(ctx, { status: "pending", limit: 100, offset: 0 }), listApprovals(ctx, { limit: 100, offset: 0 })]);
  const history = recent.approvals.filter((a) => a.status !== "pending");
  return (
    <>
      <PageHeader
        title="Approvals"
        description="Requests waiting for a human: an agent (or member) whose access comes from a policy with require_approval asked to read, write, use a secret or send a transaction. Approve once or for a time window, or deny. Break-glass access is listed here too."
      />
      <Card title={`Pending (${pending.total})`} description="Pending requests lapse after 24 hours. You cannot decide your own request.">
        <ApprovalList label="Pending approval requests" approvals={pending.approvals} approve={approveApprovalAction} deny={denyApprovalAction} stepUp={approvalStepUpOptionsAction} />
      </Card>
      <Card title="History" description="Decided, used, expired requests and break-glass grants, newest first.">
        <ApprovalList label="Approval history" approvals={history} />
      </Card>
    </>
  );
}
