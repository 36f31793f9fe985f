import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { Alert, Card, PageHeader } from "@/components/ui/layout";
import { DeletedSecrets } from "@/components/vaults/deleted-secrets";
import { ZUuid } from "@/lib/contract/common";
import type { DeletedSecret } from "@/lib/contract/secret-transfer";
import { pageCtx } from "@/server/dashboard/context";
import { ApiError } from "@/server/http/errors";
import { listDeletedSecrets } from "@/server/secrets/deleted";
import { getVault } from "@/server/vaults/service";
import { restoreDeletedSecretAction } from "../actions";
import { humanDetail } from "@/lib/dashboard/human-problem";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Recently deleted" };

/** The vault's "Recently deleted": secrets deleted in the last 7 days, each restorable with every version. */
export default async function DeletedSecretsPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!ZUuid.safeParse(id).success) notFound();
  const ctx = await pageCtx();
  const vault = await getVault(ctx, id).catch((e: unknown) => {
    if (e instanceof ApiError && (e.status === 404 || e.status === 403)) notFound();
    throw e;
  });
  let secrets: DeletedSecret[] = [];
  let problem: string | null = null;
  try {
    secrets = (await listDeletedSecrets(ctx, { vaultId: id })).secrets;
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 403)) throw e;
    problem = humanDetail(e.detail, e.status);
  }
  return (
    <>
      <div>
        <Link href={`/vaults/${id}`} className="text-sm text-zinc-400 hover:text-zinc-100">
          ← {vault.name}
        </Link>
      </div>
      <PageHeader title="Recently deleted" description={`Secrets deleted from ${vault.name} in the last 7 days. Restoring needs write access to the path.`} />
      <Card title="Deleted secrets">{problem ? <Alert tone="amber" title="You cannot list this vault's secrets">{problem}</Alert> : <DeletedSecrets vaultId={id} secrets={secrets} restore={restoreDeletedSecretAction} />}</Card>
    </>
  );
}
