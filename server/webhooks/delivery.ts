import type { Db, Dialect } from "../db";
import { log } from "../log";
import type { Runtime } from "../runtime";
import { signatureHeader, openSigningSecret } from "./signing";
import { OutboundRefused, type Resolver, safePost } from "./ssrf";

/**
 * The delivery worker: every instance runs one. A pass claims due outbox rows with ONE conditional
 * UPDATE (their `nextAttemptAt` moves past a lease, and only rows still due are taken), so two
 * instances never send the same row at the same time; a crash mid-send leaves the row to be claimed
 * again when the lease runs out (at-least-once; receivers dedupe on the event id). Rows go out as
 * batches per webhook, one signed POST each. A 2xx marks the batch delivered; anything else (network
 * error, refused address, 3xx, 4xx, 5xx) retries it with exponential backoff and jitter, and after
 * `maxAttempts` marks it failed: `nextAttemptAt` = FAILED_AT, never due again, shown by the API.
 */
export const FAILED_AT = new Date(Date.UTC(9999, 0, 1));
export const CLAIM_LIMIT = 200;
const BATCH_MAX = 50;
/** A claim outlives every batch of a pass (sent one after another per webhook, each within the timeout), with margin. */
export const leaseMs = (timeoutMs: number) => (CLAIM_LIMIT / BATCH_MAX + 1) * timeoutMs + 5_000;
const BACKOFF_CAP_MS = 3_600_000;
/** A paused webhook's rows wait without spending attempts. */
const PAUSED_RETRY_MS = 300_000;

/** SQLite stores timestamps as epoch ms (server/db), PostgreSQL as timestamps. */
const sqlTime = (dialect: Dialect, d: Date) => (dialect === "sqlite" ? d.getTime() : d);

/** Takes up to `limit` due rows for this instance; returns their ids. */
export async function claimDue(db: Db, dialect: Dialect, leaseForMs: number, now = new Date(), limit = CLAIM_LIMIT): Promise<string[]> {
  const n = sqlTime(dialect, now);
  const lease = sqlTime(dialect, new Date(now.getTime() + leaseForMs));
  const rows =
    dialect === "postgres"
      ? await db.$queryRaw<{ id: string }[]>`
          UPDATE "WebhookDelivery" SET "nextAttemptAt" = ${lease}
          WHERE "id" IN (SELECT "id" FROM "WebhookDelivery" WHERE "deliveredAt" IS NULL AND "nextAttemptAt" <= ${n}
                         ORDER BY "nextAttemptAt" LIMIT ${limit} FOR UPDATE SKIP LOCKED)
            AND "deliveredAt" IS NULL AND "nextAttemptAt" <= ${n}
          RETURNING "id"`
      : await db.$queryRaw<{ id: string }[]>`
          UPDATE "WebhookDelivery" SET "nextAttemptAt" = ${lease}
          WHERE "id" IN (SELECT "id" FROM "WebhookDelivery" WHERE "deliveredAt" IS NULL AND "nextAttemptAt" <= ${n}
                         ORDER BY "nextAttemptAt" LIMIT ${limit})
            AND "deliveredAt" IS NULL AND "nextAttemptAt" <= ${n}
          RETURNING "id"`;
  return rows.map((r) => r.id);
}

/** Delay before attempt `attempts + 1`: base·2^(attempts−1), capped, with ±50 % jitter so retries of many rows spread out. */
export function backoffMs(baseMs: number, attempts: number, random = Math.random): number {
  const exp = Math.min(BACKOFF_CAP_MS, baseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  return Math.round(exp * (0.5 + random()));
}

export type SendOutcome = { ok: boolean; status: number | null; error: string | null };

const shortError = (e: unknown) => {
  if (e instanceof OutboundRefused) return `refused: ${e.message}`;
  const code = (e as NodeJS.ErrnoException).code;
  const msg = e instanceof Error ? e.message : String(e);
  return (code ? `${code}: ${msg}` : msg).slice(0, 300);
};

export type SendOptions = { resolver?: Resolver; now?: () => number };

/** One signed POST of `events` (each already JSON) to a webhook. Never throws. */
export async function sendSigned(rt: Runtime, hook: { id: string; url: string; secret: string }, events: string[], opts: SendOptions = {}): Promise<SendOutcome> {
  const body = `{"webhook_id":${JSON.stringify(hook.id)},"events":[${events.join(",")}]}`;
  const ts = Math.floor((opts.now ?? Date.now)() / 1000);
  try {
    const res = await safePost({
      url: hook.url,
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "Talon-Webhooks/1",
        "Talon-Webhook-Id": hook.id,
        "Talon-Signature": signatureHeader(hook.secret, ts, body),
      },
      body,
      allowPrivate: rt.config.webhooks.allowPrivate,
      resolver: opts.resolver,
      timeoutMs: rt.config.webhooks.timeoutMs,
    });
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, error: null };
    if (res.status >= 300 && res.status < 400) return { ok: false, status: res.status, error: `redirect refused (HTTP ${res.status})` };
    return { ok: false, status: res.status, error: `HTTP ${res.status}` };
  } catch (e) {
    return { ok: false, status: null, error: shortError(e) };
  }
}

type Claimed = { id: string; webhookId: string; payload: string; attempts: number; createdAt: Date };

async function deliverBatch(rt: Runtime, hook: { id: string; url: string; sealedSecret: Uint8Array; isActive: boolean }, rows: Claimed[], opts: SendOptions) {
  const ids = rows.map((r) => r.id);
  const db = rt.db;
  if (!hook.isActive) {
    await db.webhookDelivery.updateMany({ where: { id: { in: ids }, deliveredAt: null }, data: { nextAttemptAt: new Date(Date.now() + PAUSED_RETRY_MS) } });
    return;
  }
  let outcome: SendOutcome;
  try {
    const secret = await openSigningSecret(rt.keystore, hook.id, hook.sealedSecret);
    outcome = await sendSigned(rt, { id: hook.id, url: hook.url, secret }, rows.map((r) => r.payload), opts);
  } catch (e) {
    outcome = { ok: false, status: null, error: `could not open the signing secret (${e instanceof Error ? e.name : "error"})` };
  }
  const now = new Date();
  if (outcome.ok) {
    await db.webhookDelivery.updateMany({ where: { id: { in: ids } }, data: { deliveredAt: now, attempts: { increment: 1 }, lastStatus: outcome.status, lastError: null } });
    return;
  }
  const { maxAttempts, retryBaseMs } = rt.config.webhooks;
  const giveUp = rows.filter((r) => r.attempts + 1 >= maxAttempts).map((r) => r.id);
  const retry = rows.filter((r) => r.attempts + 1 < maxAttempts);
  const common = { attempts: { increment: 1 }, lastStatus: outcome.status, lastError: outcome.error };
  if (giveUp.length) await db.webhookDelivery.updateMany({ where: { id: { in: giveUp } }, data: { ...common, nextAttemptAt: FAILED_AT } });
  if (retry.length) {
    const attempts = Math.max(...retry.map((r) => r.attempts + 1));
    const next = new Date(now.getTime() + backoffMs(retryBaseMs, attempts));
    await db.webhookDelivery.updateMany({ where: { id: { in: retry.map((r) => r.id) } }, data: { ...common, nextAttemptAt: next } });
  }
  log.warn("webhook delivery failed", { webhook_id: hook.id, events: rows.length, status: outcome.status, error: outcome.error, gave_up: giveUp.length });
}

/** One pass: claim, send per webhook (in parallel), record. Returns how many rows were claimed. */
export async function deliverDue(rt: Runtime, opts: SendOptions = {}): Promise<number> {
  const ids = await claimDue(rt.db, rt.dialect, leaseMs(rt.config.webhooks.timeoutMs));
  if (ids.length === 0) return 0;
  const rows = await rt.db.webhookDelivery.findMany({
    where: { id: { in: ids } },
    orderBy: { createdAt: "asc" },
    select: { id: true, webhookId: true, payload: true, attempts: true, createdAt: true, webhook: { select: { id: true, url: true, sealedSecret: true, isActive: true } } },
  });
  const byHook = new Map<string, { hook: (typeof rows)[number]["webhook"]; rows: Claimed[] }>();
  for (const r of rows) {
    const entry = byHook.get(r.webhookId) ?? { hook: r.webhook, rows: [] };
    entry.rows.push(r);
    byHook.set(r.webhookId, entry);
  }
  await Promise.all(
    [...byHook.values()].map(async ({ hook, rows: list }) => {
      for (let i = 0; i < list.length; i += BATCH_MAX) await deliverBatch(rt, hook, list.slice(i, i + BATCH_MAX), opts);
    }),
  );
  return ids.length;
}

/** Delivered rows are kept a week, failed ones a month (visible in the API meanwhile). */
export async function pruneDeliveries(db: Db, now = Date.now()): Promise<number> {
  const delivered = await db.webhookDelivery.deleteMany({ where: { deliveredAt: { lt: new Date(now - 7 * 86_400_000) } } });
  const failed = await db.webhookDelivery.deleteMany({ where: { deliveredAt: null, nextAttemptAt: FAILED_AT, createdAt: { lt: new Date(now - 30 * 86_400_000) } } });
  return delivered.count + failed.count;
}
