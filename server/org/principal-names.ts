import type { Ctx } from "../http/principal";

/**
 * What the dashboard shows for a `user:<id>` / `agent:<id>` reference: the user's email or the
 * agent's name, looked up in the caller's org only (an id from anywhere else stays unnamed).
 */
export async function principalNames(ctx: Ctx, refs: Iterable<string>): Promise<Map<string, string>> {
  const users = new Set<string>();
  const agents = new Set<string>();
  for (const ref of refs) {
    if (ref.startsWith("user:")) users.add(ref.slice(5));
    else if (ref.startsWith("agent:")) agents.add(ref.slice(6));
  }
  const orgId = ctx.principal.orgId;
  const [userRows, agentRows] = await Promise.all([
    users.size ? ctx.rt.db.user.findMany({ where: { orgId, id: { in: [...users] } }, select: { id: true, email: true } }) : [],
    agents.size ? ctx.rt.db.agent.findMany({ where: { orgId, id: { in: [...agents] } }, select: { id: true, name: true } }) : [],
  ]);
  return new Map([...userRows.map((u) => [`user:${u.id}`, u.email] as const), ...agentRows.map((a) => [`agent:${a.id}`, a.name] as const)]);
}
