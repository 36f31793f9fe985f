import { EmptyState } from "@/components/ui/layout";
import type { RevokeShare } from "./revoke-share-button";
import type { OrgShareRow } from "./share-rows";
import { SharesTable } from "./shares-table";

/** Every live share of the organisation, whoever created it: what owners and admins oversee and can revoke. */
export function OrgShares({ shares, revoke }: { shares: OrgShareRow[]; revoke: RevokeShare }) {
  if (shares.length === 0) {
    return <EmptyState title="No one in your organisation has a live share">Shares created by any member or agent appear here. Revoked shares are not listed.</EmptyState>;
  }
  return <SharesTable label="Org shares" shares={shares} revoke={revoke} sharedBy />;
}
