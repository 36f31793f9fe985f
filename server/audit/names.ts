import type { AuditEventResponse } from "../../lib/contract/audit";
import type { Ctx } from "../http/principal";

/**
 * Names for the audit page: the vaults and agents events are about (`vault:<id>`, `agent:<id>` →
 * name), and the org's members and agents to filter by. Looked up in the caller's org only, so an id
 * from anywhere else stays an id.
 */
export async function auditResourceNames(ctx: Ctx, events: AuditEventResponse[]): Promise<Map<string, string>> {
  const ids = (type: string) => [...new Set(events.filter((e) => e.resource_type === type).map((e) => e.resource_id))];
  const orgId = ctx.principal.orgId;
  const [vaults, agents] = await Promise.all([
    ids("vault").length ? ctx.rt.db.vault.findMany({ where: { orgId, id: { in: ids("vault") } }, select: { id: true, name: true } }) : [],
    ids("agent").length ? ctx.rt.db.agent.findMany({ where: { orgId, id: { in: ids("agent") } }, select: { id: true, name: true } }) : [],
  ]);
  return new Map([...vaults.map((v) => [`vault:${v.id}`, v.name] as const), ...agents.map((a) => [`agent:${a.id}`, a.name] as const)]);
}

/** Every member and agent of the org as a filter option: value `user:<id>` / `agent:<id>`, label their email or name. */
export async function auditFilterActors(ctx: Ctx): Promise<{ value: string; label: string }[]> {
  const orgId = ctx.principal.orgId;
  const [users, agents] = await Promise.all([
    ctx.rt.db.user.findMany({ where: { orgId }, select: { id: true, email: true }, orderBy: { email: "asc" }, take: 500 }),
    ctx.rt.db.agent.findMany({ where: { orgId }, select: { id: true, name: true }, orderBy: { name: "asc" }, take: 500 }),
  ]);
  return [...users.map((u) => ({ value: `user:${u.id}`, label: u.email })), ...agents.map((a) => ({ value: `agent:${a.id}`, label: `${a.name} (agent)` }))];
}
