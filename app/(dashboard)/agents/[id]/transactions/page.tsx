import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { SigningKeyPanel } from "@/components/transactions/signing-key-panel";
import { TransactionsTable } from "@/components/transactions/transactions-table";
import { Card, PageHeader } from "@/components/ui/layout";
import { ZUuid } from "@/lib/contract/common";
import { getAgent } from "@/server/agents/service";
import { pageCtx } from "@/server/dashboard/context";
import { ApiError } from "@/server/http/errors";
import { listChains } from "@/server/intents/chains";
import { listSigningKeys } from "@/server/intents/signing-keys";
import { listTransactions } from "@/server/intents/transactions";
import { createSigningKeyAction, deleteSigningKeyAction } from "./actions";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Agent transactions" };

export default async function AgentTransactionsPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!ZUuid.safeParse(id).success) notFound();
  const ctx = await pageCtx();
  const agent = await getAgent(ctx, id).catch((e: unknown) => {
    if (e instanceof ApiError && e.status === 404) notFound();
    throw e;
  });
  const [{ transactions }, { signing_keys }] = await Promise.all([listTransactions(ctx, id, { limit: 100 }), listSigningKeys(ctx, id)]);
  const chains = listChains(ctx).chains.map(({ name, display_name }) => ({ name, display_name }));
  return (
    <>
      <div>
        <Link href={`/agents/${id}`} className="text-sm text-zinc-400 hover:text-zinc-100">
          ← {agent.name}
        </Link>
      </div>
      <PageHeader
        title="Transactions"
        description={agent.crypto_proxy_enabled ? "Signed by Talon through the crypto proxy, newest first." : "The crypto proxy is off for this agent: enable crypto_proxy_enabled on the agent's page."}
      />
      <Card title="Recent transactions">
        <TransactionsTable transactions={transactions} />
      </Card>
      <SigningKeyPanel
        agentId={id}
        keys={signing_keys}
        chains={chains}
        hsmAvailable={ctx.rt.keystore.secp256k1 !== undefined}
        create={createSigningKeyAction}
        destroy={deleteSigningKeyAction}
      />
    </>
  );
}
