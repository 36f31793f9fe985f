import Link from "next/link";
import { CreateVaultForm } from "@/components/vaults/create-vault-form";
import { OnboardingChecklist } from "@/components/vaults/onboarding-checklist";
import { Badge, Card, cellClass, EmptyState, formatDate, PageHeader, Table } from "@/components/ui/layout";
import { pageCtx } from "@/server/dashboard/context";
import { onboardingState } from "@/server/dashboard/onboarding";
import { listVaults } from "@/server/vaults/service";
import { createVaultAction } from "./actions";

export const dynamic = "force-dynamic";

export default async function VaultsPage() {
  const ctx = await pageCtx();
  const { vaults } = await listVaults(ctx);
  // Owners and admins manage every vault and its policies, so a count of all its secrets tells them
  // nothing they could not see; a member's count would include paths no policy lets them read.
  const showCounts = ctx.principal.role === "owner" || ctx.principal.role === "admin";
  const counts = new Map<string, number>();
  if (showCounts && vaults.length > 0) {
    const groups = await ctx.rt.db.secret.groupBy({ by: ["vaultId"], where: { vaultId: { in: vaults.map((v) => v.id) }, deletedAt: null }, _count: { _all: true } });
    for (const g of groups) counts.set(g.vaultId, g._count._all);
  }
  // Owners and admins set an org up; the checklist goes once an agent has read a secret.
  const onboarding = showCounts ? await onboardingState(ctx) : null;

  return (
    <>
      <PageHeader title="Vaults" description="Each vault has its own encryption key, wrapped by the HSM. Agents reach a vault's secrets through access policies." />
      {onboarding && !onboarding.agentRead && <OnboardingChecklist steps={onboarding} publicUrl={ctx.rt.config.publicUrl} />}
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]">
        <Card title="Your vaults">
          {vaults.length === 0 ? (
            <EmptyState title="No vaults yet">Create a vault to start storing secrets for your agents.</EmptyState>
          ) : (
            <Table label="Vaults" head={["Name", "Description", ...(showCounts ? ["Secrets"] : []), "Created"]}>
              {vaults.map((v) => (
                <tr key={v.id}>
                  <td className={cellClass}>
                    <Link href={`/vaults/${v.id}`} className="font-medium text-amber-300 hover:underline focus-visible:outline-2 focus-visible:outline-amber-400">
                      {v.name}
                    </Link>
                    {v.cmek_enabled && (
                      <span className="ml-2">
                        <Badge tone="blue">CMEK</Badge>
                      </span>
                    )}
                  </td>
                  <td className={`${cellClass} max-w-xs break-words text-zinc-400`}>{v.description || "—"}</td>
                  {showCounts && <td className={`${cellClass} tabular-nums`}>{counts.get(v.id) ?? 0}</td>}
                  <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(v.created_at)}</td>
                </tr>
              ))}
            </Table>
          )}
        </Card>
        <Card title="Create vault">
          <CreateVaultForm create={createVaultAction} />
        </Card>
      </div>
    </>
  );
}
