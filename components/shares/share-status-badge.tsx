import { Badge } from "@/components/ui/layout";
import type { ShareStatus } from "./share-rows";

export function ShareStatusBadge({ status }: { status: ShareStatus }) {
  return <Badge tone={status.tone}>{status.label}</Badge>;
}
