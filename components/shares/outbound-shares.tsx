import Link from "next/link";
import { EmptyState } from "@/components/ui/layout";
import type { RevokeShare } from "./revoke-share-button";
import type { OutboundShareRow } from "./share-rows";
import { SharesTable } from "./shares-table";

export function OutboundShares({ shares, revoke }: { shares: OutboundShareRow[]; revoke: RevokeShare }) {
  if (shares.length === 0) {
    return (
      <EmptyState title="You have not shared any secrets" action={<Link href="/vaults" className="text-sm font-semibold text-amber-300 hover:text-amber-200">Go to vaults</Link>}>
        Share a secret from its vault page, with a user or agent of your organisation or with anyone holding the link. Revoked shares are not listed.
      </EmptyState>
    );
  }
  return <SharesTable label="Outbound shares" shares={shares} revoke={revoke} />;
}
