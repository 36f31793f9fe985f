import { readdir } from "node:fs/promises";
import path from "node:path";
import type { ReadinessPart, ReadinessParts } from "../../lib/contract/health";
import { OUTAGE_RETRY_AFTER_SECONDS } from "../http/errors";
import type { Runtime } from "../runtime";
import { probeDatabase, reusedPerRuntime } from "./liveness";

/**
 * Readiness (`/v1/health/ready`): whether a load balancer should send this instance traffic. Four parts,
 * in this order because the later ones need the earlier: the database answers; its migrations are the
 * ones this build ships (a database behind the code fails queries, one ahead of it was migrated by a
 * newer Talon); the keystore's self-test passed recently (re-run when stale, so a token that went bad
 * after start-up is noticed); the audit writer is not stuck (every secret read waits for it). Results
 * are reused for a second and concurrent probes share one check, like liveness.
 */
export const SELF_TEST_MAX_AGE_MS = 60_000;
const SELF_TEST_TIMEOUT_MS = 5_000;
/** A batch may wait 15 s for a connection and 15 s to commit (AuditWriter): well past that it is stuck. */
export const AUDIT_STUCK_MS = 45_000;

export type Readiness = { ready: boolean; failing: ReadinessPart[]; parts: ReadinessParts; retryAfterSeconds: number };

type Part = ReadinessParts[ReadinessPart];
const ok = (detail: string): Part => ({ status: "ok", detail });
const fail = (detail: string): Part => ({ status: "fail", detail });
const skipped = (detail: string): Part => ({ status: "skipped", detail });
const ago = (ms: number) => `${Math.max(0, Math.round(ms / 1000))} s ago`;

async function probe(rt: Runtime): Promise<Readiness> {
  const outage = await probeDatabase(rt);
  const database = outage ? fail(outage.detail) : ok("answered");
  const migrations = outage ? skipped("the database is unavailable") : await checkMigrations(rt);
  const [keystore, audit] = await Promise.all([checkKeystore(rt), Promise.resolve(checkAudit(rt))]);
  const parts: ReadinessParts = { database, migrations, keystore, audit };
  const failing = (Object.keys(parts) as ReadinessPart[]).filter((k) => parts[k].status === "fail");
  return { ready: failing.length === 0, failing, parts, retryAfterSeconds: OUTAGE_RETRY_AFTER_SECONDS };
}

export const checkReady: (rt: Runtime) => Promise<Readiness> = reusedPerRuntime(probe);

/** The migrations this build ships, newest last; read once per process (they change only with a deploy). */
const shipped = new Map<string, Promise<string[]>>();

function shippedMigrations(dialect: Runtime["dialect"]): Promise<string[]> {
  let list = shipped.get(dialect);
  if (!list) {
    const dir = path.join(process.cwd(), "prisma", dialect, "migrations");
    list = readdir(dir, { withFileTypes: true }).then((entries) => entries.filter((e) => e.isDirectory()).map((e) => e.name).sort());
    // A failed read is not cached: the next probe tries again.
    list.catch(() => shipped.delete(dialect));
    shipped.set(dialect, list);
  }
  return list;
}

async function checkMigrations(rt: Runtime): Promise<Part> {
  let names: string[];
  try {
    names = await shippedMigrations(rt.dialect);
  } catch {
    return fail(`the migrations this build ships were not found under prisma/${rt.dialect}/migrations`);
  }
  const newestShipped = names.at(-1);
  if (!newestShipped) return fail(`this build ships no migrations under prisma/${rt.dialect}/migrations`);
  let rows: { migration_name: string; finished_at: unknown }[];
  try {
    // Names start with a timestamp: the greatest is the newest. Rolled-back rows were undone.
    rows = await rt.db.$queryRaw`SELECT "migration_name", "finished_at" FROM "_prisma_migrations" WHERE "rolled_back_at" IS NULL ORDER BY "migration_name" DESC LIMIT 1`;
  } catch {
    return fail("the database's migration history cannot be read");
  }
  const newest = rows[0];
  if (!newest) return fail(`no migration is applied; this build needs ${newestShipped}`);
  if (newest.finished_at === null) return fail(`migration ${newest.migration_name} started but did not finish`);
  if (newest.migration_name === newestShipped) return ok(`${newestShipped} applied`);
  if (newest.migration_name < newestShipped) {
    const pending = names.filter((n) => n > newest.migration_name).length;
    return fail(`${pending} migration${pending === 1 ? "" : "s"} pending: the database is at ${newest.migration_name}, this build needs ${newestShipped}`);
  }
  return fail(`the database has ${newest.migration_name}, which this build does not ship (a newer Talon migrated it)`);
}

type SelfTest = { at: number; error: string | null };
const selfTests = new WeakMap<Runtime, { last: SelfTest | null; running: Promise<SelfTest> | null }>();

/** The keystore's self-test result, re-run (single-flight, bounded in time) when older than SELF_TEST_MAX_AGE_MS or failed. */
async function checkKeystore(rt: Runtime): Promise<Part> {
  const health = await rt.keystore.health();
  if (health.status !== "ok") return fail("the keystore is unavailable (see /v1/health/hsm)");
  let s = selfTests.get(rt);
  if (!s) {
    s = { last: null, running: null };
    selfTests.set(rt, s);
  }
  const fresh = s.last && s.last.error === null && Date.now() - s.last.at < SELF_TEST_MAX_AGE_MS;
  if (!fresh) {
    const state = s;
    state.running ??= runSelfTest(rt).then((r) => {
      state.last = r;
      state.running = null;
      return r;
    });
    await state.running;
  }
  const last = s.last!;
  return last.error === null ? ok(`self-test passed ${ago(Date.now() - last.at)}`) : fail(last.error);
}

async function runSelfTest(rt: Runtime): Promise<SelfTest> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), SELF_TEST_TIMEOUT_MS)));
  try {
    const done = await Promise.race([rt.keystore.selfTest().then(() => "done" as const), timeout]);
    return { at: Date.now(), error: done === "timeout" ? `the keystore self-test did not finish within ${SELF_TEST_TIMEOUT_MS / 1000} s` : null };
  } catch {
    // The keystore's own message may name key labels or module paths: the probe is public.
    return { at: Date.now(), error: "the keystore self-test failed (wrap/unwrap or sign/verify)" };
  } finally {
    clearTimeout(timer);
  }
}

function checkAudit(rt: Runtime): Part {
  const now = Date.now();
  const { queued, oldestQueuedAt, flushingSince, lastFlushOkAt } = rt.audit.state();
  const last = lastFlushOkAt === null ? "no flush yet" : `last flush ${ago(now - lastFlushOkAt)}`;
  if (flushingSince !== null && now - flushingSince > AUDIT_STUCK_MS) return fail(`a flush has been in flight since ${ago(now - flushingSince)}; ${queued} event(s) queued, ${last}`);
  if (oldestQueuedAt !== null && now - oldestQueuedAt > AUDIT_STUCK_MS) return fail(`${queued} event(s) queued, the oldest since ${ago(now - oldestQueuedAt)}; ${last}`);
  return ok(`${queued} event(s) queued, ${last}`);
}
