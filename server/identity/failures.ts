import { hit } from "../abuse/counters";
import { ipBucketKey } from "../http/rate-limit";
import type { PublicCtx } from "../http/principal";

/**
 * Failed sign-in attempts by someone who has not proved who they are. They are recorded in the
 * targeted account's organisation (its owners should see them) but attributed to "anonymous": the
 * victim did nothing. And they are bounded before they reach the org's hash chain — at most
 * `AUDITED_FAILURES_PER_HOUR` per targeted account (per client IP for unknown addresses), the last
 * one saying so — so an attacker cannot grow another org's audit log without bound.
 */
export const AUDITED_FAILURES_PER_HOUR = 20;
const HOUR_MS = 60 * 60 * 1000;

const ANONYMOUS = { actorId: "anonymous", actorType: "anonymous" as const };

/** Whose credentials the attempt was against: a user (the default) or an agent; `orgId` "" for none. */
export type FailureTarget = { id: string; orgId: string; kind?: "user" | "agent" };

export async function recordAnonymousFailure(ctx: PublicCtx, target: FailureTarget | null, details: Record<string, string>): Promise<void> {
  ctx.rt.metrics.signInFailure(details.method);
  const kind = target?.kind ?? "user";
  const key = target ? `audit:auth-failure:${kind}:${target.id}` : `audit:auth-failure:ip:${ipBucketKey(ctx.ip)}`;
  const { count } = await hit(ctx.rt.db, key, HOUR_MS);
  if (count > AUDITED_FAILURES_PER_HOUR) return;
  const recorded: Record<string, string | boolean> = { ...details };
  if (count === AUDITED_FAILURES_PER_HOUR) recorded.more_this_hour_not_recorded = true;
  await ctx.rt.audit.record(
    ctx,
    { action: "auth.failure", resourceType: kind, resourceId: target?.id ?? "", details: recorded },
    { orgId: target?.orgId ?? "", ...ANONYMOUS },
  );
}
