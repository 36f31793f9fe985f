import { NotFoundMessage } from "@/components/shell/not-found-message";

/** A vault, agent or other record that is gone or not the org's, shown inside the dashboard (HTTP 404). */
export default function DashboardNotFound() {
  return <NotFoundMessage home="/vaults" homeLabel="Back to vaults" />;
}
