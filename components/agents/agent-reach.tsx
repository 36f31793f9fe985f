import Link from "next/link";
import { Badge, Card, cellClass, EmptyState, formatDate, Table } from "@/components/ui/layout";
import type { AgentReach } from "@/lib/contract/agent-reach";

const linkClass = "text-amber-300 hover:underline focus-visible:outline-2 focus-visible:outline-amber-400";

function conditionsText(c: AgentReach["policies"][number]["conditions"]): string {
  const parts: string[] = [];
  if (c.ip_allowlist?.length) parts.push(`from ${c.ip_allowlist.join(", ")}`);
  if (c.time_window) parts.push("within a time window");
  return parts.join("; ") || "—";
}

/**
 * "What can it reach?": the agent's policies in every vault, then, per vault, the paths it can read or
 * use right now as the server decides it (binding, scopes, live policies, deny over allow).
 */
export function AgentReachCard({ reach }: { reach: AgentReach }) {
  return (
    <Card
      title="What it can reach"
      description="Decided by the same rules that answer its requests: vault binding, scopes, live policies (a deny beats an allow). Policies limited to an IP allow list count only from those addresses and are not counted here."
    >
      <div className="flex flex-col gap-6">
        <section aria-labelledby="reach-policies" className="flex flex-col gap-2">
          <h3 id="reach-policies" className="text-sm font-semibold text-zinc-200">
            Policies across vaults
          </h3>
          {reach.policies.length === 0 ? (
            <p className="text-sm text-zinc-400">No policy names this agent: it reads nothing unless it created the vault.</p>
          ) : (
            <Table label="Agent policies" head={["Vault", "Pattern", "Effect", "Permissions", "Conditions", "Expires"]}>
              {reach.policies.map((p) => (
                <tr key={p.id}>
                  <td className={cellClass}>
                    <Link href={`/policies?vault=${p.vault_id}`} className={`${linkClass} break-all`}>
                      {p.vault_name}
                    </Link>
                  </td>
                  <td className={`${cellClass} break-all font-mono`}>{p.secret_path_pattern}</td>
                  <td className={cellClass}>
                    <Badge tone={p.effect === "deny" ? "red" : "green"}>{p.effect}</Badge>
                  </td>
                  <td className={cellClass}>{p.permissions.join(", ")}</td>
                  <td className={`${cellClass} text-zinc-400`}>{conditionsText(p.conditions)}</td>
                  <td className={`${cellClass} whitespace-nowrap ${p.live ? "text-zinc-400" : "text-red-300"}`}>{p.expires_at ? `${p.live ? "" : "expired "}${formatDate(p.expires_at)}` : "never"}</td>
                </tr>
              ))}
            </Table>
          )}
        </section>
        <section aria-labelledby="reach-paths" className="flex flex-col gap-3">
          <h3 id="reach-paths" className="text-sm font-semibold text-zinc-200">
            Paths it can read or use now
          </h3>
          {!reach.active ? (
            <EmptyState title="Deactivated or expired">Every request it makes is refused, whatever its policies say.</EmptyState>
          ) : reach.vaults.length === 0 ? (
            <p className="text-sm text-zinc-400">None: no vault lets this agent read or use anything.</p>
          ) : (
            reach.vaults.map((v) => (
              <div key={v.vault_id} data-testid="reach-vault" data-vault={v.vault_name} className="flex min-w-0 flex-col gap-1.5 rounded-lg border border-zinc-800 p-3">
                <p className="text-sm font-medium text-zinc-100">
                  {v.vault_name.startsWith("__") ? (
                    <span>{v.vault_name}</span>
                  ) : (
                    <Link href={`/vaults/${v.vault_id}`} className={`${linkClass} break-all`}>
                      {v.vault_name}
                    </Link>
                  )}
                  <span className="ml-2 text-xs text-zinc-400">{v.refused ? "refused" : `${v.paths.length + v.more} reachable`}</span>
                </p>
                {v.refused ? (
                  <p className="text-sm text-amber-200">{v.refused}</p>
                ) : v.paths.length === 0 ? (
                  <p className="text-sm text-zinc-400">Its policies here match no secret stored today.</p>
                ) : (
                  <ul className="flex flex-wrap gap-1.5">
                    {v.paths.map((p) => (
                      <li key={p.path} data-testid="reach-path" className="break-all rounded-md bg-zinc-800 px-2 py-0.5 font-mono text-xs text-zinc-200">
                        {p.path}
                        {p.use_only && <span className="ml-1 text-sky-300">(use only: Talon uses it, never returns it)</span>}
                        {p.value_refused && <span className="ml-1 text-amber-300">(value refused: crypto proxy)</span>}
                      </li>
                    ))}
                    {v.more > 0 && <li className="text-xs text-zinc-400">and {v.more} more</li>}
                  </ul>
                )}
              </div>
            ))
          )}
        </section>
      </div>
    </Card>
  );
}
