import type { AuditEventResponse, AuditQuery, AuditVerifyResponse } from "../../lib/contract/audit";
import type { Ctx } from "../http/principal";
import { principalRef } from "../http/principal";
import { eventHash, GENESIS_HASH } from "./chain";

/**
 * Reading the audit log. Who sees what: org owners and admins see every event of their org; members
 * and agents see the events they are the actor of (an agent learning what other agents or humans did
 * is not something it needs to do its job). Every caller of the org may verify the chain: the answer
 * holds counts and an event id, nothing else.
 */
type EventRow = {
  id: string;
  orgId: string;
  action: string;
  actorId: string;
  actorType: string;
  resourceType: string;
  resourceId: string;
  details: string;
  ipAddress: string;
  requestId: string;
  createdAt: Date;
  seq: number | null;
  prevHash: string | null;
  hash: string | null;
};

const seesWholeOrg = (ctx: Ctx) => ctx.principal.kind === "user" && (ctx.principal.role === "owner" || ctx.principal.role === "admin");

/** `user:<id>` → `<id>`: the API names actors by id and type, as the contract does. */
const bareId = (actorId: string) => actorId.replace(/^(user|agent):/, "");

function actorFilter(actorId: string): string[] {
  return /^(user|agent):/.test(actorId) ? [actorId] : [`user:${actorId}`, `agent:${actorId}`, actorId];
}

function toEvent(r: EventRow): AuditEventResponse {
  let details: Record<string, unknown>;
  try {
    details = JSON.parse(r.details) as Record<string, unknown>;
  } catch {
    details = {};
  }
  return {
    id: r.id,
    action: r.action,
    actor_id: bareId(r.actorId),
    actor_type: r.actorType as AuditEventResponse["actor_type"],
    resource_type: r.resourceType,
    resource_id: r.resourceId,
    org_id: r.orgId,
    details,
    ip_address: r.ipAddress,
    created_at: r.createdAt.toISOString(),
    seq: r.seq,
    hash: r.hash,
  };
}

export async function queryAuditEvents(ctx: Ctx, q: AuditQuery): Promise<{ events: AuditEventResponse[]; count: number }> {
  const actorIds = [
    ...(q.actor_id !== undefined ? [actorFilter(q.actor_id)] : []),
    ...(seesWholeOrg(ctx) ? [] : [[principalRef(ctx.principal)]]),
  ];
  const where = {
    orgId: ctx.principal.orgId,
    ...(q.action !== undefined ? { action: q.action } : {}),
    ...(q.resource_id !== undefined ? { resourceId: q.resource_id } : {}),
    ...(q.from !== undefined || q.to !== undefined
      ? { createdAt: { ...(q.from ? { gte: new Date(q.from) } : {}), ...(q.to ? { lte: new Date(q.to) } : {}) } }
      : {}),
    AND: actorIds.map((ids) => ({ actorId: { in: ids } })),
  };
  const [rows, count] = await Promise.all([
    ctx.rt.db.auditEvent.findMany({ where, orderBy: [{ createdAt: "desc" }, { seq: "desc" }], skip: q.offset, take: q.limit }),
    ctx.rt.db.auditEvent.count({ where }),
  ]);
  return { events: rows.map(toEvent), count };
}

const PAGE = 1000;

/**
 * Recomputes the org's chain from its first event: each event must have the next seq (a gap means a
 * deleted row), carry the previous event's hash, and hash to what it stores (an edited row does not).
 * An event of the org outside the chain (no seq: inserted behind Talon's back) breaks it too. Deleting
 * the newest events leaves a shorter valid chain; anchoring the head elsewhere is what catches that.
 */
export async function verifyAuditChain(ctx: Ctx): Promise<AuditVerifyResponse> {
  const orgId = ctx.principal.orgId;
  const unchained = await ctx.rt.db.auditEvent.findFirst({ where: { orgId, seq: null }, orderBy: { createdAt: "asc" }, select: { id: true } });
  let checked = 0;
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  for (;;) {
    const page = (await ctx.rt.db.auditEvent.findMany({
      where: { orgId, seq: { gte: expectedSeq } },
      orderBy: { seq: "asc" },
      take: PAGE,
    })) as EventRow[];
    for (const r of page) {
      checked += 1;
      const intact = r.seq === expectedSeq && r.prevHash === prevHash && r.hash === eventHash({ ...r, seq: r.seq, prevHash: r.prevHash });
      if (!intact) return { chain_valid: false, events_checked: checked, broken_at_event_id: r.id };
      prevHash = r.hash!;
      expectedSeq += 1;
    }
    if (page.length < PAGE) break;
  }
  if (unchained) return { chain_valid: false, events_checked: checked + 1, broken_at_event_id: unchained.id };
  return { chain_valid: true, events_checked: checked, broken_at_event_id: null };
}
