import type { Metadata } from "next";
import Link from "next/link";
import { GrantAccessForm } from "@/components/policies/grant-access-form";
import { PolicyList } from "@/components/policies/policy-list";
import { VaultPicker } from "@/components/policies/vault-picker";
import { Alert, Card, EmptyState, PageHeader } from "@/components/ui/layout";
import { buttonClass } from "@/components/ui/button";
import { humanDetail } from "@/lib/dashboard/human-problem";
import { listPolicies } from "@/server/access/policies";
import { listAgents } from "@/server/agents/service";
import { pageCtx } from "@/server/dashboard/context";
import { ApiError } from "@/server/http/errors";
import { listMembers } from "@/server/org/members";
import { listSecrets } from "@/server/secrets/service";
import { listVaults } from "@/server/vaults/service";
import { grantAccessAction, revokePolicyAction, updatePolicyAction } from "./actions";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Policies" };

/** The live pattern preview gets at most this many paths; beyond it the count says "+". */
const PREVIEW_PATHS_MAX = 2000;

export default async function PoliciesPage({ searchParams }: { searchParams: Promise<{ vault?: string | string[] }> }) {
  const ctx = await pageCtx();
  const requested = (await searchParams).vault;
  const { vaults } = await listVaults(ctx);
  const header = <PageHeader title="Policies" description="Who may read or write which secrets of a vault, under which conditions." />;
  const vault = vaults.find((v) => v.id === requested) ?? vaults[0];
  if (!vault) {
    return (
      <>
        {header}
        <EmptyState
          title="No vaults yet"
          action={
            <Link href="/vaults" className={buttonClass("primary")}>
              Create a vault
            </Link>
          }
        >
          Policies grant access to the secrets of a vault. Create one first.
        </EmptyState>
      </>
    );
  }

  const policies = await listPolicies(ctx, vault.id).then(
    (r) => r.policies,
    (e: unknown) => {
      // Members who did not create the vault may not manage its policies: say so instead of failing the page.
      if (e instanceof ApiError && e.status === 403) return e;
      throw e;
    },
  );
  const picker = <VaultPicker vaults={vaults.map((v) => ({ id: v.id, name: v.name }))} selected={vault.id} />;
  const unknownVault = typeof requested === "string" && requested !== vault.id;
  if (policies instanceof ApiError) {
    return (
      <>
        {header}
        {picker}
        <Alert tone="amber" title={`You cannot manage the policies of ${vault.name}`}>
          {humanDetail(policies.detail, policies.status)}
        </Alert>
      </>
    );
  }

  const [{ members }, { agents }, { secrets }] = await Promise.all([listMembers(ctx), listAgents(ctx), listSecrets(ctx, { vaultId: vault.id })]);
  const principals = {
    user: members.map((m) => ({ id: m.id, label: m.email })),
    agent: agents.map((a) => ({ id: a.id, label: a.is_active ? a.name : `${a.name} (inactive)` })),
  };
  const paths = secrets.slice(0, PREVIEW_PATHS_MAX).map((s) => s.path);
  const pathsTruncated = secrets.length > PREVIEW_PATHS_MAX;
  const shared = { principals, paths, pathsTruncated };

  return (
    <>
      {header}
      {picker}
      {unknownVault && <Alert tone="amber">That vault was not found; showing {vault.name}.</Alert>}
      <Card title={`Policies on ${vault.name}`}>
        <PolicyList policies={policies} update={updatePolicyAction} revoke={revokePolicyAction} {...shared} />
      </Card>
      <GrantAccessForm key={vault.id} vaultId={vault.id} vaultName={vault.name} grant={grantAccessAction} {...shared} />
    </>
  );
}
