import { agentScopeSources } from "../agents/repo";
import type { Db } from "../db";
import { agentKeyPath } from "./system-vault";

/**
 * Scopes for an agent token when the agent has no explicit scopes: the path patterns of its live
 * allow policies, for clients that read `scopes` from the token (the card's clients do). They are a
 * summary, never a ceiling: the token says `scope_source: "derived"` and authentication drops them,
 * because the policies themselves are decided live on every request — a list frozen in the token
 * would go stale the moment a human grants or revokes. An agent that created a vault has full access
 * there (owner bypass), so its summary is `**`. No policies and no vault: `[]`, i.e. zero access.
 */
export async function derivedScopesForAgent(db: Db, agentId: string): Promise<string[]> {
  const { ownsVault, allowPatterns } = await agentScopeSources(db, agentId);
  if (ownsVault) return ["**"];
  const now = Date.now();
  const live = allowPatterns.filter((p) => p.expiresAt === null || p.expiresAt.getTime() > now).map((p) => p.pattern);
  const patterns = [...new Set(live)].sort();
  // The agent's own SSH key (system vault) is something it may read, so the summary names it.
  return patterns.length ? [...patterns, agentKeyPath(agentId)] : [];
}
