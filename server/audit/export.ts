import { AUDIT_EXPORT_COLUMNS, type AuditExportQuery, type AuditExportRecord } from "../../lib/contract/audit";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import type { StoredAuditEvent } from "./chain";

/**
 * Exporting an org's audit log for a SIEM: owners and admins only, oldest first, with the chain fields
 * (`seq`, `prev_hash`, `hash`) and every field the hash covers under its stored value, so the receiver
 * can recompute each hash and link (recipe: docs/operations/audit-export.md).
 *
 * Streamed: one page of events is read from the database each time the client has taken the previous
 * one, so a year of events never sits in memory and a slow reader slows only its own export. The
 * export is the chain as it stood when it began (through the head seq read then, after this export's
 * own `audit.export` event), filtered to `created_at` within [from, to]. Events outside the chain
 * (no seq: never written by Talon) are not exported; /v1/audit/verify reports them.
 */
const PAGE = 500;

export type AuditExport = { body: ReadableStream<Uint8Array>; contentType: string; filename: string };

function assertMayExport(ctx: Ctx) {
  const p = ctx.principal;
  if (p.kind !== "user" || (p.role !== "owner" && p.role !== "admin")) {
    throw ApiError.forbidden("Only organisation owners and admins may export the audit log");
  }
}

function toRecord(r: StoredAuditEvent): AuditExportRecord {
  return {
    seq: r.seq!,
    id: r.id,
    created_at: r.createdAt.toISOString(),
    org_id: r.orgId,
    action: r.action,
    actor: r.actorId,
    actor_type: r.actorType as AuditExportRecord["actor_type"],
    resource_type: r.resourceType,
    resource_id: r.resourceId,
    details: r.details,
    ip_address: r.ipAddress,
    request_id: r.requestId,
    prev_hash: r.prevHash ?? "",
    hash: r.hash ?? "",
  };
}

/**
 * One CSV field (RFC 4180). A value a spreadsheet would run as a formula (starting with = + - @, tab
 * or CR) gets a leading `'`; so does one already starting with `'`, so that dropping one leading `'`
 * always gives the stored value back and a SIEM can still recompute the hash from the CSV.
 */
export function csvField(value: string | number): string {
  let s = String(value);
  if (/^[=+\-@\t\r']/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const csvLine = (fields: (string | number)[]) => `${fields.map(csvField).join(",")}\r\n`;

export async function exportAuditEvents(ctx: Ctx, q: AuditExportQuery): Promise<AuditExport> {
  assertMayExport(ctx);
  const from = q.from ? new Date(q.from) : undefined;
  const to = q.to ? new Date(q.to) : undefined;
  if (from && to && from > to) throw ApiError.badRequest("Invalid query: from must not be after to", [{ field: "from", message: "must not be after to" }]);
  const orgId = ctx.principal.orgId;
  const format = q.format;

  // Recorded (and durable) before the first byte goes out: an export that happened is in the log.
  await ctx.rt.audit.record(ctx, {
    action: "audit.export",
    resourceType: "org",
    resourceId: orgId,
    details: { format, from: q.from ?? null, to: q.to ?? null },
  });
  const headSeq = (await ctx.rt.db.auditEvent.aggregate({ where: { orgId }, _max: { seq: true } }))._max.seq ?? 0;

  const db = ctx.rt.db;
  const encoder = new TextEncoder();
  let cursor = 0;
  let headerSent = format !== "csv";
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let out = "";
        if (!headerSent) {
          out += csvLine(AUDIT_EXPORT_COLUMNS);
          headerSent = true;
        }
        const page = (await db.auditEvent.findMany({
          where: {
            orgId,
            seq: { gt: cursor, lte: headSeq },
            ...(from || to ? { createdAt: { ...(from ? { gte: from } : {}), ...(to ? { lte: to } : {}) } } : {}),
          },
          orderBy: { seq: "asc" },
          take: PAGE,
        }));
        for (const row of page) {
          const rec = toRecord(row);
          out += format === "csv" ? csvLine(AUDIT_EXPORT_COLUMNS.map((k) => rec[k])) : `${JSON.stringify(rec)}\n`;
          cursor = rec.seq;
        }
        if (out) controller.enqueue(encoder.encode(out));
        if (page.length < PAGE) controller.close();
      },
    },
    { highWaterMark: 1 },
  );
  const day = new Date().toISOString().slice(0, 10);
  return {
    body,
    contentType: format === "csv" ? "text/csv; charset=utf-8; header=present" : "application/x-ndjson; charset=utf-8",
    filename: `talon-audit-${orgId}-${day}.${format}`,
  };
}
