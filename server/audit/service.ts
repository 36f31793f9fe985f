import type { AuditEventResponse, AuditQuery } from "../../lib/contract/audit";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { principalRef } from "../http/principal";
import type { StoredAuditEvent } from "./chain";

/**
 * Reading the audit log. Who sees what: org owners and admins see every event of their org; members
 * and agents see the events they are the actor of (an agent learning what other agents or humans did
 * is not something it needs to do its job). Verifying the chain is ./verify.ts.
 */
const seesWholeOrg = (ctx: Ctx) => ctx.principal.kind === "user" && (ctx.principal.role === "owner" || ctx.principal.role === "admin");

/** `user:<id>` → `<id>`: the API names actors by id and type, as the contract does. */
const bareId = (actorId: string) => actorId.replace(/^(user|agent):/, "");

function actorFilter(actorId: string): string[] {
  return /^(user|agent):/.test(actorId) ? [actorId] : [`user:${actorId}`, `agent:${actorId}`, actorId];
}

function toEvent(r: StoredAuditEvent): AuditEventResponse {
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

const PATH_FILTER_MAX_SECRETS = 1000;

/**
 * The org's secrets (deleted ones included) whose path starts with `prefix`. Matched in JS after a
 * LIKE that only narrows: neither database's LIKE takes `_` literally through Prisma, and paths are
 * full of underscores.
 */
async function secretIdsUnder(ctx: Ctx, prefix: string): Promise<string[]> {
  const rows = await ctx.rt.db.secret.findMany({
    where: { path: { startsWith: prefix }, vault: { orgId: ctx.principal.orgId } },
    select: { id: true, path: true },
    take: PATH_FILTER_MAX_SECRETS * 4,
  });
  const ids = rows.filter((r) => r.path.startsWith(prefix)).map((r) => r.id);
  if (ids.length > PATH_FILTER_MAX_SECRETS) {
    throw ApiError.badRequest(`More than ${PATH_FILTER_MAX_SECRETS} secrets match this path; give a longer one`, [{ field: "path", message: "matches too many secrets" }]);
  }
  return ids;
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
    ...(q.path !== undefined ? { resourceType: "secret", resourceId: { in: await secretIdsUnder(ctx, q.path) } } : {}),
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
