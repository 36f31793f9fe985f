import { randomUUID } from "node:crypto";
import { ROTATE_DEFAULT_CHARSET, ROTATE_DEFAULT_LENGTH } from "../../lib/contract/secrets";
import { appendAudit } from "../audit/chain";
import { log } from "../log";
import type { Runtime } from "../runtime";
import { generateSecretValue } from "./generate";
import { autoRotationRefusal, parseRotationPolicy } from "./rotation";
import { appendVersion, type SystemWriter } from "./service";

/**
 * What happens when a secret's rotation is due. A periodic scan on every instance looks at due, live,
 * unannounced secrets; each is claimed by ONE conditional UPDATE, so whichever instance wins acts and
 * the others see count 0:
 *
 * - `auto_rotate` (and the server may generate: no CMEK vault, a type in AUTO_ROTATE_TYPES): the claim
 *   moves `rotationDueAt` forward by CLAIM_LEASE_MS, then appendVersion writes a generated value as the
 *   next version (sealed, `secret.rotate` audited as `system:rotation`, so `secret.updated` webhooks),
 *   which sets the next due date. A version written by anyone after the scan saw the row supersedes
 *   the rotation (the build refuses under the path lock), so a human's fresh value is never replaced.
 *   A crash or failure after the claim leaves the lease: the secret is due again when it ends.
 * - otherwise a reminder: the claim sets `rotationNotifiedAt`, and one `secret.rotation_due` audit
 *   event (and webhook) follows; a failed audit write hands the claim back. (Claim and event are two
 *   statements: a crash between them loses that one reminder.) An `auto_rotate` policy the server can
 *   no longer honour (the vault became CMEK) is announced this way, naming why.
 */
export const ROTATION_ACTOR = "system:rotation" satisfies SystemWriter["system"];
const CLAIM_LEASE_MS = 10 * 60_000;
const FIRST_SCAN_MS = 10_000;
const SCAN_BATCH = 500;

class Superseded extends Error {}

type DueRow = Awaited<ReturnType<typeof findDue>>[number];

function findDue(rt: Runtime, now: Date) {
  return rt.db.secret.findMany({
    where: { rotationDueAt: { lte: now }, rotationNotifiedAt: null, deletedAt: null },
    select: {
      id: true,
      path: true,
      rotationDueAt: true,
      rotationPolicy: true,
      currentVersion: true,
      vault: true,
      versions: { orderBy: { version: "desc" }, take: 1, select: { type: true } },
    },
    orderBy: { rotationDueAt: "asc" },
    take: SCAN_BATCH,
  });
}

/** One scan: every due secret rotated or announced once across all instances; what this call did. */
export async function scanDueRotations(rt: Runtime, now = new Date()): Promise<{ announced: number; rotated: number }> {
  let announced = 0;
  let rotated = 0;
  for (const s of await findDue(rt, now)) {
    const policy = parseRotationPolicy(s.rotationPolicy);
    const refusal = autoRotationRefusal(s.vault, s.versions[0]?.type ?? "generic");
    try {
      if (policy?.auto_rotate && refusal === null) {
        const generate = policy.generate ?? {};
        if (await rotateScheduled(rt, s, now, generate.length ?? ROTATE_DEFAULT_LENGTH, generate.charset ?? ROTATE_DEFAULT_CHARSET)) rotated++;
      } else if (await announceDue(rt, s, now, policy?.auto_rotate ? refusal : null)) {
        announced++;
      }
    } catch (e) {
      // One secret's failure (an HSM or database error) must not hold up the others; it is retried later.
      log.error("rotation of a due secret failed", { secret_id: s.id, error: e instanceof Error ? e.name : "unknown" });
    }
  }
  return { announced, rotated };
}

async function rotateScheduled(rt: Runtime, s: DueRow, now: Date, length: number, charset: Parameters<typeof generateSecretValue>[1]): Promise<boolean> {
  const { count } = await rt.db.secret.updateMany({
    where: { id: s.id, rotationDueAt: { lte: now }, rotationNotifiedAt: null, deletedAt: null },
    data: { rotationDueAt: new Date(now.getTime() + CLAIM_LEASE_MS) },
  });
  if (count !== 1) return false;
  const value = generateSecretValue(length, charset);
  const writer: SystemWriter = { rt, requestId: "", ip: "", system: ROTATION_ACTOR };
  try {
    await appendVersion(writer, s.vault, s.path, "secret.rotate", (current) => {
      if (!current || current.deletedAt || current.currentVersion !== s.currentVersion) throw new Superseded();
      return { value, type: current.type, metadata: current.metadata, expiresAt: null, maxAccessCount: 0 };
    });
    return true;
  } catch (e) {
    // Someone wrote (or deleted) the secret since the scan read it; their write set the next due date.
    if (e instanceof Superseded) return false;
    throw e;
  }
}

async function announceDue(rt: Runtime, s: DueRow, now: Date, autoRotateRefused: "cmek" | "type" | null): Promise<boolean> {
  const { count } = await rt.db.secret.updateMany({
    where: { id: s.id, rotationDueAt: { lte: now }, rotationNotifiedAt: null, deletedAt: null },
    data: { rotationNotifiedAt: now },
  });
  if (count !== 1) return false;
  const details = {
    vault_id: s.vault.id,
    path: s.path,
    version: s.currentVersion,
    due_at: s.rotationDueAt!.toISOString(),
    ...(autoRotateRefused ? { auto_rotate_refused: autoRotateRefused } : {}),
  };
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
        details: JSON.stringify(details),
        ipAddress: "",
        requestId: "",
        createdAt: now,
      }),
    );
    return true;
  } catch (e) {
    // Unclaimed again, so a later scan announces it: a reminder is never silently dropped by a failed write.
    await rt.db.secret.updateMany({ where: { id: s.id, rotationNotifiedAt: now }, data: { rotationNotifiedAt: null } });
    throw e;
  }
}

/** The scan every `everyMs` (TALON_ROTATION_SCAN_MS) on this instance; `stop` waits for a scan in flight. */
export function startRotationScan(rt: Runtime, everyMs = rt.config.rotationScanMs): { stop(): Promise<void> } {
  let stopped = false;
  let current: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  const tick = () => {
    current = scanDueRotations(rt)
      .catch((e: unknown) => log.error("rotation scan failed", { error: e instanceof Error ? e.name : "unknown" }))
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
