import type { Db } from "../db";
import { agentKeyPath } from "./system-vault";

/**
 * Scopes for an agent token when the agent has no explicit scopes: the path patterns of its live
 * allow policies. An agent that created a vault has full access there (owner bypass), and scopes are
 * not per vault, so its derived ceiling is `**` — its policies still decide everywhere else, since
 * they are re-checked live on every request. No policies and no vault: `[]`, i.e. zero access.
 */
export async function derivedScopesForAgent(db: Db, agentId: string): Promise<string[]> {
  const now = new Date();
  const [policies, ownVault] = await Promise.all([
    db.policy.findMany({
      where: { principalType: "agent", principalId: agentId, effect: "allow", OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
      select: { secretPathPattern: true },
    }),
    db.vault.findFirst({ where: { createdBy: agentId, createdByType: "agent" }, select: { id: true } }),
  ]);
  if (ownVault) return ["**"];
  const patterns = [...new Set(policies.map((p) => p.secretPathPattern))].sort();
  // The agent's own SSH key (system vault) is something it may read, so a derived ceiling covers it.
  return patterns.length ? [...patterns, agentKeyPath(agentId)] : [];
}
