import { AUDIT_VERIFY_MAX_EVENTS, type AuditVerifyResponse } from "../../lib/contract/audit";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { eventHash, GENESIS_HASH } from "./chain";
import { type Checkpoint, claimVerifyLease, loadCheckpoint, storeCheckpoint, VERIFY_LEASE_MS } from "./checkpoint";

/**
 * Verifying an org's audit chain without letting one caller slow the instance:
 *
 * 1. owners and admins only (a full verification: owners only) — it reads the whole org's log;
 * 2. one verification per org at a time, across instances (a lease row; a second one gets 409);
 * 3. incremental: from the signed checkpoint on, at most `limit` events per call (`complete: false`
 *    says more remain; the next call continues), and the checkpoint moves to what was verified.
 *
 * What each mode proves: an incremental run checks every event appended since the checkpoint — an
 * edited, deleted or inserted one is found — and that the first of them links to the checkpoint's
 * hash. It does not re-read what lies before the checkpoint: tampering there is found by `full`, which
 * recomputes from the first event, in one call however long, and also requires the event at the
 * checkpoint's seq to carry the checkpoint's hash (a chain rewritten consistently from the start, or
 * cut short below the checkpoint, fails that). A checkpoint whose signature fails is ignored: the run
 * starts at the first event and says `checkpoint: "rejected"`.
 */
type Options = { full?: boolean; limit?: number };

const PAGE = 1000;

function assertMayVerify(ctx: Ctx, full: boolean) {
  const p = ctx.principal;
  const role = p.kind === "user" ? p.role : null;
  if (role !== "owner" && role !== "admin") throw ApiError.forbidden("Only organisation owners and admins may verify the audit chain");
  if (full && role !== "owner") throw ApiError.forbidden("Only organisation owners may run a full verification (full=true)");
}

export async function verifyAuditChain(ctx: Ctx, opts: Options = {}): Promise<AuditVerifyResponse> {
  const full = opts.full === true;
  assertMayVerify(ctx, full);
  const orgId = ctx.principal.orgId;
  const lease = await claimVerifyLease(ctx.rt.db, orgId);
  if (!lease) {
    throw new ApiError(409, "A verification of this organisation's audit chain is already running; retry when it has finished", {
      headers: { "Retry-After": "5" },
    });
  }
  try {
    return await runVerification(ctx, orgId, full, Math.min(opts.limit ?? AUDIT_VERIFY_MAX_EVENTS, AUDIT_VERIFY_MAX_EVENTS), lease.renew);
  } finally {
    await lease.release();
  }
}

async function runVerification(ctx: Ctx, orgId: string, full: boolean, limit: number, renewLease: () => Promise<void>): Promise<AuditVerifyResponse> {
  const db = ctx.rt.db;
  const stored = await loadCheckpoint(db, ctx.rt.keystore, orgId);
  const anchor: Checkpoint | null = stored?.status === "valid" ? stored : null;
  const headSeq = (await db.auditEvent.aggregate({ where: { orgId }, _max: { seq: true } }))._max.seq ?? 0;
  const fromStart = full || anchor === null;
  const report = (r: Pick<AuditVerifyResponse, "chain_valid" | "events_checked" | "broken_at_event_id" | "complete" | "verified_through_seq" | "detail">) => ({
    ...r,
    head_seq: headSeq,
    mode: full ? ("full" as const) : ("incremental" as const),
    checkpoint: stored?.status ?? ("none" as const),
  });

  let expectedSeq = fromStart ? 1 : anchor.seq + 1;
  let prevHash = fromStart ? GENESIS_HASH : anchor.hash;
  let checked = 0;
  const budget = full ? Number.POSITIVE_INFINITY : limit;

  if (anchor && headSeq < anchor.seq) {
    // Events the checkpoint vouches for are gone: the chain was cut short behind Talon's back.
    const last = await db.auditEvent.findFirst({ where: { orgId, seq: headSeq }, select: { id: true } });
    return report({
      chain_valid: false,
      events_checked: 0,
      broken_at_event_id: last?.id ?? null,
      complete: true,
      verified_through_seq: 0,
      detail: `The chain ends at event ${headSeq}, but the signed checkpoint vouches for ${anchor.seq} events: events were deleted`,
    });
  }

  let lastLeaseRenewal = Date.now();
  while (checked < budget) {
    const page = (await db.auditEvent.findMany({
      where: { orgId, seq: { gte: expectedSeq } },
      orderBy: { seq: "asc" },
      take: Math.min(PAGE, budget - checked),
    }));
    for (const r of page) {
      checked += 1;
      const intact = r.seq === expectedSeq && r.prevHash === prevHash && r.hash === eventHash({ ...r, seq: r.seq, prevHash: r.prevHash });
      const matchesAnchor = !(anchor && fromStart && r.seq === anchor.seq && r.hash !== anchor.hash);
      if (!intact || !matchesAnchor) {
        return report({
          chain_valid: false,
          events_checked: checked,
          broken_at_event_id: r.id,
          complete: true,
          verified_through_seq: expectedSeq - 1,
          detail: intact
            ? `Event ${r.seq} does not carry the hash the signed checkpoint recorded for it: the chain was rewritten up to there`
            : `Event ${r.seq ?? "?"} was edited, inserted, or follows a deleted event`,
        });
      }
      prevHash = r.hash!;
      expectedSeq += 1;
    }
    if (page.length < PAGE) break;
    if (Date.now() - lastLeaseRenewal > VERIFY_LEASE_MS / 3) {
      await renewLease();
      lastLeaseRenewal = Date.now();
    }
  }
  const verifiedThrough = expectedSeq - 1;

  if (anchor && fromStart && verifiedThrough < anchor.seq) {
    return report({
      chain_valid: false,
      events_checked: checked,
      broken_at_event_id: null,
      complete: true,
      verified_through_seq: verifiedThrough,
      detail: `The chain ends at event ${verifiedThrough}, but the signed checkpoint vouches for ${anchor.seq} events: events were deleted`,
    });
  }

  // An event of the org outside the chain (no seq: inserted behind Talon's back) breaks it too.
  const unchained = await db.auditEvent.findFirst({ where: { orgId, seq: null }, orderBy: { createdAt: "asc" }, select: { id: true } });
  if (unchained) {
    return report({
      chain_valid: false,
      events_checked: checked + 1,
      broken_at_event_id: unchained.id,
      complete: true,
      verified_through_seq: verifiedThrough,
      detail: "An event of this organisation is outside the chain (inserted outside Talon)",
    });
  }

  const moved = verifiedThrough > (anchor?.seq ?? 0) || (stored?.status === "rejected" && verifiedThrough > 0);
  if (moved) await storeCheckpoint(db, ctx.rt.keystore, orgId, { seq: verifiedThrough, hash: prevHash });
  return report({
    chain_valid: true,
    events_checked: checked,
    broken_at_event_id: null,
    complete: verifiedThrough >= headSeq,
    verified_through_seq: verifiedThrough,
    detail: null,
  });
}
