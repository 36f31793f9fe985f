import Link from "next/link";
import { notFound } from "next/navigation";
import { buttonClass } from "@/components/ui/button";
import { Alert, Badge, Card, EmptyState, formatDate, PageHeader } from "@/components/ui/layout";
import { DeleteVaultButton } from "@/components/vaults/delete-vault-button";
import { Breadcrumbs, folderHref, FolderList } from "@/components/vaults/folder-nav";
import { NewSecretButton } from "@/components/vaults/secret-dialogs";
import { SecretTable } from "@/components/vaults/secret-table";
import { folderPrefix, treeLevel } from "@/components/vaults/secret-tree";
import type { SecretActions } from "@/components/vaults/types";
import { ZUuid } from "@/lib/contract/common";
import { humanDetail } from "@/lib/dashboard/human-problem";
import type { SecretSummary } from "@/lib/contract/secrets";
import { pageCtx } from "@/server/dashboard/context";
import { ApiError } from "@/server/http/errors";
import { listSecrets } from "@/server/secrets/service";
import { getVault } from "@/server/vaults/service";
import { deleteVaultAction } from "../actions";
import type { ShareRecipients } from "@/components/shares/share-secret-button";
import { listAgents } from "@/server/agents/service";
import { listMembers } from "@/server/org/members";
import type { UserCtx } from "@/server/http/principal";
import { ExportFolderButtons } from "@/components/vaults/export-folder-buttons";
import { ImportEnvButton } from "@/components/vaults/import-env-button";
import { SecretBrowser } from "@/components/vaults/secret-browser";
import { ViewSwitch } from "@/components/vaults/view-switch";
import {
  createShareAction,
  deleteSecretAction,
  exportSecretsAction,
  importSecretsAction,
  disableSecretVersionAction,
  listSecretVersionsAction,
  putSecretAction,
  restoreSecretVersionAction,
  revealSecretAction,
  revealSecretVersionAction,
} from "./actions";
import { withCurrentVersionState } from "@/server/secrets/version-state";
import { BreakGlassButton } from "@/components/approvals/break-glass-button";
import { activeBreakGlassUntil } from "@/server/approvals/service";
import { breakGlassAction } from "../../approvals/actions";
import { BindingsSection } from "./bindings-section";
import { CmekCard, type CmekActions } from "@/components/cmek/cmek-card";
import { CmekVaultProvider, type CmekReadActions } from "@/components/cmek/cmek-vault";
import { cmekJobAction, cmekPlanAction, disableCmekAction, enableCmekAction, readForCmekAction, revealCmekSecretAction, revealCmekSecretVersionAction, rotateCmekAction } from "./cmek-actions";

export const dynamic = "force-dynamic";

const cmekActions: CmekActions = { enable: enableCmekAction, rotate: rotateCmekAction, disable: disableCmekAction, job: cmekJobAction, plan: cmekPlanAction, read: readForCmekAction };
const cmekReads: CmekReadActions = { reveal: revealCmekSecretAction, revealVersion: revealCmekSecretVersionAction };

const secretActions: SecretActions = {
  put: putSecretAction,
  reveal: revealSecretAction,
  revealVersion: revealSecretVersionAction,
  restoreVersion: restoreSecretVersionAction,
  versions: listSecretVersionsAction,
  disableVersion: disableSecretVersionAction,
  remove: deleteSecretAction,
};

/** Whom the Share dialog offers: the other members and the active agents of the org. */
async function shareRecipients(ctx: UserCtx): Promise<ShareRecipients> {
  const [members, agents] = await Promise.all([listMembers(ctx).catch(() => ({ members: [] })), listAgents(ctx).catch(() => ({ agents: [] }))]);
  return {
    users: members.members.filter((m) => m.id !== ctx.principal.userId).map((m) => ({ id: m.id, label: m.display_name ? `${m.display_name} (${m.email})` : m.email })),
    agents: agents.agents.filter((a) => a.is_active).map((a) => ({ id: a.id, label: a.name })),
  };
}

/** A service's 403 as something to show; anything else is rethrown (404 → the not-found page). */
function forbiddenDetail(e: unknown): string {
  if (e instanceof ApiError && e.status === 404) notFound();
  if (e instanceof ApiError && e.status === 403) return humanDetail(e.detail, e.status);
  throw e;
}

export default async function VaultPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const [{ id }, query] = await Promise.all([params, searchParams]);
  if (!ZUuid.safeParse(id).success) notFound();
  const ctx = await pageCtx();
  const listView = query.view === "list";
  const prefix = listView ? "" : folderPrefix(query.prefix);

  let vault;
  try {
    vault = await getVault(ctx, id);
  } catch (e) {
    return (
      <>
        <PageHeader title="Vault" />
        <Alert title="You cannot open this vault">{forbiddenDetail(e)}</Alert>
      </>
    );
  }

  let listed: SecretSummary[] = [];
  let listProblem: string | null = null;
  try {
    listed = (await listSecrets(ctx, { vaultId: id, prefix })).secrets;
  } catch (e) {
    listProblem = forbiddenDetail(e);
  }
  const level = treeLevel(listed, prefix);
  // Talon's system vault (agents' SSH keys) is read-only here: no new secrets, policies or deletion.
  const system = vault.created_by_type === "system";
  const [secrets, recipients, everything] = await Promise.all([
    withCurrentVersionState(ctx, id, listView ? listed : level.secrets),
    system ? null : shareRecipients(ctx),
    // The import preview tells new paths from existing ones anywhere in the vault.
    system || listProblem ? [] : prefix ? listSecrets(ctx, { vaultId: id }).then((r) => r.secrets) : listed,
  ]);
  const existingVersions = Object.fromEntries(everything.map((s) => [s.path, s.version]));

  return (
    <CmekVaultProvider vaultId={id} fingerprint={vault.cmek_enabled ? vault.cmek_fingerprint : null} reads={cmekReads}>
      <PageHeader
        title={vault.name}
        description={
          <>
            {vault.description && <span className="block">{vault.description}</span>}
            <span className="block text-xs text-zinc-500">
              Created {formatDate(vault.created_at)} · id <span className="font-mono">{vault.id}</span>
              {vault.cmek_enabled && (
                <span className="ml-2">
                  <Badge tone="blue">CMEK</Badge>
                </span>
              )}
            </span>
          </>
        }
        actions={
          !system && (
            <>
              <NewSecretButton vaultId={id} put={putSecretAction} lookup={listSecretVersionsAction} defaultPath={prefix} />
              <ImportEnvButton vaultId={id} folder={prefix} existing={existingVersions} importSecrets={importSecretsAction} />
              <Link href={`/policies?vault=${id}`} className={buttonClass("secondary")}>
                Access policies
              </Link>
              <Link href={`/vaults/${id}/deleted`} className={buttonClass("secondary")}>
                Recently deleted
              </Link>
              <DeleteVaultButton vaultId={id} name={vault.name} remove={deleteVaultAction} />
              {(ctx.principal.role === "owner" || ctx.principal.role === "admin") && <BreakGlassButton vaultId={id} activeUntil={await activeBreakGlassUntil(ctx, id)} breakGlass={breakGlassAction} />}
            </>
          )
        }
      />
      <Card title="Secrets" description="Values stay hidden until you reveal one; every reveal is a read, recorded in the audit log and counted against the version's read limit.">
        <div className="flex flex-col gap-4">
          <ViewSwitch vaultId={id} list={listView} />
          {listView ? null : <Breadcrumbs vaultId={id} prefix={prefix} />}
          {listProblem ? (
            <Alert tone="amber" title="You cannot list this vault's secrets">
              {listProblem}
            </Alert>
          ) : listed.length === 0 ? (
            prefix ? (
              <EmptyState
                title={`Nothing under ${prefix}`}
                action={
                  <Link href={folderHref(id, "")} className={buttonClass("secondary")}>
                    Back to all secrets
                  </Link>
                }
              >
                No secret you can read has a path starting with {prefix}.
              </EmptyState>
            ) : (
              <EmptyState title="No secrets yet">
                Use New secret to store an API key, a password or a private key; agents read it through the API once a policy lets them.
              </EmptyState>
            )
          ) : (
            <>
              {!system && <ExportFolderButtons vaultId={id} prefix={prefix} exportSecrets={exportSecretsAction} />}
              {listView ? (
                <SecretBrowser vaultId={id} secrets={secrets} actions={secretActions} share={recipients ? { recipients, create: createShareAction } : null} now={Date.now()} />
              ) : (
                <FolderList vaultId={id} folders={level.folders} />
              )}
              {!listView && secrets.length > 0 && <SecretTable vaultId={id} prefix={prefix} secrets={secrets} actions={secretActions} share={recipients ? { recipients, create: createShareAction } : null} now={Date.now()} />}
            </>
          )}
        </div>
      </Card>
      {!system && <CmekCard vault={vault} secretCount={everything.length} actions={cmekActions} />}
      {!system && <BindingsSection ctx={ctx} vaultId={id} />}
    </CmekVaultProvider>
  );
}
