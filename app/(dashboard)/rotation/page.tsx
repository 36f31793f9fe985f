import { RotationTable } from "@/components/rotation/rotation-schedule";
import { Alert, Card, PageHeader } from "@/components/ui/layout";
import { pageCtx } from "@/server/dashboard/context";
import { listScheduledRotations } from "@/server/secrets/rotation-schedule";

export const dynamic = "force-dynamic";

export default async function RotationPage() {
  const ctx = await pageCtx();
  const { secrets, truncated } = await listScheduledRotations(ctx);
  const due = secrets.filter((s) => s.rotation_due);
  const scheduled = secrets.filter((s) => !s.rotation_due);
  return (
    <>
      <PageHeader
        title="Rotation"
        description="Secrets with a rotation policy in the vaults you can see. A secret is due when its latest version is older than its interval: a reminder is announced once in the audit log and to webhooks subscribed to secret.rotation_due; an automatic one is rotated by Talon itself. Storing a new version starts the interval again."
      />
      {truncated && <Alert tone="amber">Showing the 500 secrets due soonest.</Alert>}
      <Card title={`Due now (${due.length})`} description="Overdue for rotation: store a new value (or rotate it) to start the interval again.">
        <RotationTable rows={due} label="Secrets due for rotation" emptyTitle="Nothing is due" emptyText="No secret you can see is past its rotation interval." />
      </Card>
      <Card title={`Scheduled (${scheduled.length})`} description="Secrets with a rotation policy that are not due yet, soonest first.">
        <RotationTable
          rows={scheduled}
          label="Scheduled rotations"
          emptyTitle="No rotation policies yet"
          emptyText="Set one when storing a secret (rotation_policy: { interval_days }) to be reminded, or to have Talon rotate generated values itself (auto_rotate)."
        />
      </Card>
    </>
  );
}
