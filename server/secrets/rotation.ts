import { randomUUID } from "node:crypto";
import { type RotationPolicy, ZRotationPolicy } from "../../lib/contract/secrets";
import { appendAudit } from "../audit/chain";
import { log } from "../log";
import type { Runtime } from "../runtime";

/**
 * Rotation reminders. A secret's `rotation_policy` (`Secret.rotationPolicy`, JSON text) sets how long
 * its latest version may live; `rotationDueAt` = that version's createdAt + interval, recomputed by
 * every new version, which also clears `rotationNotifiedAt`. A periodic scan on every instance claims
 * due rows one by one with a conditional UPDATE (`rotationNotifiedAt IS NULL` → now), so whichever
 * instance wins writes the one `secret.rotation_due` audit event; a failed audit write hands the claim
 * back. (Claim and event are two statements: a crash between them loses that one reminder.)
 */
const DAY_MS = 86_400_000;
export const ROTATION_SCAN_EVERY_MS = 5 * 60_000;
const FIRST_SCAN_MS = 10_000;
const SCAN_BATCH = 500;

/** The stored policy, or null; a damaged row counts as no policy (a reminder, never an access rule). */
export function parseRotationPolicy(text: string | null): RotationPolicy | null {
  if (!text) return null;
  try {
    const parsed = ZRotationPolicy.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The Secret columns a new version at `createdAt` leaves behind, for the policy in force (`text`). */
export function rotationColumns(text: string | null, createdAt: Date) {
  const policy = parseRotationPolicy(text);
  return {
    rotationPolicy: policy ? JSON.stringify(policy) : null,
    rotationDueAt: policy ? new Date(createdAt.getTime() + policy.interval_days * DAY_MS) : null,
    rotationNotifiedAt: null,
  };
}

export type RotationFields = { rotation_policy?: RotationPolicy; rotation_due_at?: string | null; rotation_due?: boolean };

/** The response fields of a secret with these columns; none at all for a secret without a policy (the shapes clients already read). */
export function rotationFields(row: { rotationPolicy: string | null; rotationDueAt: Date | null }, now = Date.now()): RotationFields {
  const policy = parseRotationPolicy(row.rotationPolicy);
  if (!policy) return {};
  const dueAt = row.rotationDueAt;
  return { rotation_policy: policy, rotation_due_at: dueAt ? dueAt.toISOString() : null, rotation_due: dueAt !== null && dueAt.getTime() <= now };
}

/** One scan: announces every due, unannounced, live secret once; returns how many this call announced. */
export async function scanDueRotations(rt: Runtime, now = new Date()): Promise<number> {
  const due = await rt.db.secret.findMany({
    where: { rotationDueAt: { lte: now }, rotationNotifiedAt: null, deletedAt: null },
    select: { id: true, path: true, rotationDueAt: true, currentVersion: true, vault: { select: { id: true, orgId: true } } },
    orderBy: { rotationDueAt: "asc" },
    take: SCAN_BATCH,
  });
  let announced = 0;
  for (const s of due) {
    // The claim: one conditional UPDATE; on every instance at most one sees count 1 for a secret.
    const { count } = await rt.db.secret.updateMany({
      where: { id: s.id, rotationDueAt: { lte: now }, rotationNotifiedAt: null, deletedAt: null },
      data: { rotationNotifiedAt: now },
    });
    if (count !== 1) continue;
    try {
      await rt.db.$transaction((tx) =>
        appendAudit(tx, {
          id: randomUUID(),
          orgId: s.vault.orgId,
          actorId: "system",
          actorType: "system",
          action: "secret.rotation_due",
          resourceType: "secret",
          resourceId: s.id,
          details: JSON.stringify({ vault_id: s.vault.id, path: s.path, version: s.currentVersion, due_at: s.rotationDueAt!.toISOString() }),
          ipAddress: "",
          requestId: "",
          createdAt: now,
        }),
      );
      announced++;
    } catch (e) {
      // Unclaimed again, so a later scan announces it: a reminder is never silently dropped by a failed write.
      await rt.db.secret.updateMany({ where: { id: s.id, rotationNotifiedAt: now }, data: { rotationNotifiedAt: null } });
      throw e;
    }
  }
  return announced;
}

/** The scan every ROTATION_SCAN_EVERY_MS on this instance (server.ts); `stop` waits for a scan in flight. */
export function startRotationReminders(rt: Runtime, everyMs = ROTATION_SCAN_EVERY_MS): { stop(): Promise<void> } {
  let stopped = false;
  let current: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  const tick = () => {
    current = scanDueRotations(rt)
      .catch((e: unknown) => log.error("rotation reminder scan failed", { error: e instanceof Error ? e.name : "unknown" }))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, everyMs).unref();
      });
  };
  timer = setTimeout(tick, Math.min(FIRST_SCAN_MS, everyMs)).unref();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
