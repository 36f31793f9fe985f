import { randomUUID } from "node:crypto";
import type { CmekJobResponse } from "../../lib/contract/cmek";
import { CmekError, type CmekKey, decryptCmekBytes, encryptCmekValue } from "../../lib/crypto/cmek";
import { appendAudit } from "../audit/chain";
import { auditRow } from "../audit/writer";
import { openSecretVersion, sealSecretVersion } from "../crypto/envelope";
import type { Tx } from "../db";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { KeystoreIntegrityError } from "../keystore/types";
import { log } from "../log";
import type { Runtime } from "../runtime";

/**
 * The re-encryption job behind a CMEK rotation (old key → new key) and a CMEK disable (old key → no
 * customer key). It runs in the server process that accepted it, in batches of BATCH versions: each
 * batch is read, opened and re-sealed outside any transaction, then written in one transaction that
 * sets every version's ciphertext *and* its cmekFingerprint in the same UPDATE, so a version is
 * always under exactly the key its row names — a crash between batches loses nothing.
 *
 * The keys live only in this closure (CryptoKeys, non-extractable) for the job's life: never in a log,
 * an audit event, an error or a row. A job whose process died stops heartbeating (the row's updatedAt);
 * after LEASE_MS anyone presenting the same two keys again resumes it from the versions still under the
 * old key — batches select by fingerprint, not by a cursor, so resuming needs no saved position.
 */
export const CMEK_BATCH = 100;
export const CMEK_JOB_LEASE_MS = 10_000;

type JobRow = {
  id: string;
  orgId: string;
  vaultId: string;
  oldFingerprint: string;
  newFingerprint: string;
  status: string;
  processed: number;
  total: number;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
  updatedAt: Date;
};

/** A disable job has no new key; the row stores "" (the column is required). */
const DISABLE = "";

export function toJobResponse(j: JobRow): CmekJobResponse {
  return {
    id: j.id,
    vault_id: j.vaultId,
    kind: j.newFingerprint === DISABLE ? "disable" : "rotate",
    old_fingerprint: j.oldFingerprint,
    new_fingerprint: j.newFingerprint === DISABLE ? null : j.newFingerprint,
    status: j.status as CmekJobResponse["status"],
    processed: j.processed,
    total: j.total,
    error: j.error,
    // The heartbeat (updatedAt) rides on each batch's progress update.
    stalled: j.status === "running" && j.updatedAt.getTime() < Date.now() - CMEK_JOB_LEASE_MS,
    started_at: j.startedAt.toISOString(),
    finished_at: j.finishedAt ? j.finishedAt.toISOString() : null,
  };
}

/** Jobs this process is running, so it never runs one twice. */
const runningHere = new Set<string>();

export type JobKeys = { old: CmekKey; next: CmekKey | null };

/**
 * Starts a job, or resumes the vault's unfinished one when the same keys come again and its process is
 * gone. The claim is one conditional UPDATE on the vault (`cmekRotationJobId IS NULL`), so a second
 * start — on any instance — is a 409.
 */
export async function startCmekJob(ctx: Ctx, vault: { id: string; orgId: string }, keys: JobKeys, audit: { action: string }): Promise<CmekJobResponse> {
  const newFingerprint = keys.next?.fingerprint ?? DISABLE;
  const db = ctx.rt.db;
  const current = await db.vault.findFirst({ where: { id: vault.id, orgId: vault.orgId }, select: { cmekRotationJobId: true } });
  if (!current) throw ApiError.notFound("Vault not found");

  let job: JobRow;
  if (current.cmekRotationJobId) {
    job = await claimStale(ctx, current.cmekRotationJobId, keys.old.fingerprint, newFingerprint);
  } else {
    job = await db.$transaction(async (tx) => {
      const id = randomUUID();
      const { count } = await tx.vault.updateMany({
        where: { id: vault.id, cmekRotationJobId: null, cmekEnabled: true, cmekFingerprint: keys.old.fingerprint },
        data: { cmekRotationJobId: id },
      });
      if (count !== 1) throw ApiError.conflict("A customer-key job is already running on this vault, or its key changed; fetch the vault and its job");
      const total = await tx.secretVersion.count({ where: { cmekFingerprint: keys.old.fingerprint, secret: { vaultId: vault.id } } });
      const row = await tx.cmekRotationJob.create({
        data: { id, orgId: vault.orgId, vaultId: vault.id, oldFingerprint: keys.old.fingerprint, newFingerprint, status: "running", total, createdBy: ctx.principal.kind === "user" ? ctx.principal.userId : ctx.principal.agentId },
      });
      await appendAudit(tx, auditRow(ctx, {
        action: audit.action,
        resourceType: "vault",
        resourceId: vault.id,
        details: { job_id: id, old_fingerprint: keys.old.fingerprint, new_fingerprint: keys.next?.fingerprint ?? null, versions: total },
      }));
      return row;
    });
  }
  runningHere.add(job.id);
  void runJob(ctx.rt, job, keys).finally(() => runningHere.delete(job.id));
  return toJobResponse(job);
}

/** Takes over the vault's job if it is the same rotation and nobody has heartbeated it for LEASE_MS. */
async function claimStale(ctx: Ctx, jobId: string, oldFingerprint: string, newFingerprint: string): Promise<JobRow> {
  const busy = () => ApiError.conflict(`A customer-key job is already running on this vault (job ${jobId}); follow it at its Location or wait for it to finish`);
  if (runningHere.has(jobId)) throw busy();
  const job = await ctx.rt.db.cmekRotationJob.findUnique({ where: { id: jobId } });
  if (!job || job.status !== "running") throw busy();
  if (job.oldFingerprint !== oldFingerprint || job.newFingerprint !== newFingerprint) {
    throw ApiError.conflict(`An unfinished customer-key job (job ${jobId}) moves this vault to another key; resume it with the same two keys`);
  }
  const { count } = await ctx.rt.db.cmekRotationJob.updateMany({
    where: { id: jobId, status: "running", updatedAt: { lt: new Date(Date.now() - CMEK_JOB_LEASE_MS) } },
    data: { error: null },
  });
  if (count !== 1) throw busy();
  log.info("cmek job resumed", { jobId, vaultId: job.vaultId });
  return ctx.rt.db.cmekRotationJob.findUniqueOrThrow({ where: { id: jobId } });
}

class Retry extends Error {}

async function runJob(rt: Runtime, job: JobRow, keys: JobKeys): Promise<void> {
  const vaultId = job.vaultId;
  try {
    for (;;) {
      const batch = await rt.db.secretVersion.findMany({
        where: { cmekFingerprint: job.oldFingerprint, secret: { vaultId } },
        orderBy: { id: "asc" },
        take: CMEK_BATCH,
        select: { id: true, secretId: true, version: true, ciphertext: true, secret: { select: { path: true } } },
      });
      if (batch.length === 0) {
        if (await finish(rt, job)) return;
        continue;
      }
      const sealed = await reencrypt(rt, vaultId, batch, keys);
      await rt.db.$transaction(async (tx) => {
        let moved = 0;
        for (const s of sealed) {
          const { count } = await tx.secretVersion.updateMany({
            where: { id: s.id, cmekFingerprint: job.oldFingerprint },
            data: { ciphertext: s.ciphertext, cmekFingerprint: keys.next?.fingerprint ?? null },
          });
          moved += count;
        }
        // The heartbeat (updatedAt) rides on the progress update.
        await tx.cmekRotationJob.update({ where: { id: job.id }, data: { processed: { increment: moved } } });
      });
      await new Promise((r) => setImmediate(r));
    }
  } catch (e) {
    if (e instanceof CmekError || e instanceof KeystoreIntegrityError) {
      await fail(rt, job, e instanceof CmekError ? e.message : "A stored version failed its integrity check");
      return;
    }
    // Database or keystore trouble: the job stays `running` and resumable once its lease runs out.
    log.error("cmek job stopped; POST the same keys again to resume it", { jobId: job.id, vaultId, error: e instanceof Error ? e.name : "unknown" });
  }
}

type Sealed = { id: string; ciphertext: Uint8Array<ArrayBuffer> };

async function reencrypt(
  rt: Runtime,
  vaultId: string,
  batch: { id: string; secretId: string; version: number; ciphertext: Uint8Array; secret: { path: string } }[],
  keys: JobKeys,
): Promise<Sealed[]> {
  const vault = await rt.db.vault.findUniqueOrThrow({ where: { id: vaultId }, select: { id: true, wrappedKey: true, masterKeyVersion: true } });
  const vaultKey = await rt.vaultKeys.vaultKey(vault);
  try {
    const out: Sealed[] = [];
    for (const v of batch) {
      const aad = { vaultId, secretId: v.secretId, version: v.version };
      const blob = openSecretVersion(vaultKey, aad, v.ciphertext).toString("utf8");
      const binding = { vaultId, path: v.secret.path };
      let plain: Uint8Array;
      try {
        plain = await decryptCmekBytes(keys.old, binding, blob);
      } catch (e) {
        throw new CmekError(`Version ${v.version} of ${v.secret.path} did not open under the old key (${e instanceof Error ? e.message : "error"}); the job stopped`);
      }
      const next = keys.next ? Buffer.from(await encryptCmekValue(keys.next, binding, plain), "utf8") : Buffer.from(plain);
      plain.fill(0);
      out.push({ id: v.id, ciphertext: new Uint8Array(sealSecretVersion(vaultKey, aad, next)) });
      next.fill(0);
    }
    return out;
  } finally {
    vaultKey.fill(0);
  }
}

/**
 * Ends the job: the vault moves to the new key (or off CMEK) in the same transaction that finds no
 * version left under the old one. The vault row is updated first, so on PostgreSQL a write still
 * holding it (see state.ts) commits before the count runs and is seen by it.
 */
async function finish(rt: Runtime, job: JobRow): Promise<boolean> {
  try {
    await rt.db.$transaction(async (tx: Tx) => {
      const data = job.newFingerprint === DISABLE
        ? { cmekEnabled: false, cmekFingerprint: null, cmekRotationJobId: null }
        : { cmekFingerprint: job.newFingerprint, cmekRotationJobId: null };
      const { count } = await tx.vault.updateMany({ where: { id: job.vaultId, cmekRotationJobId: job.id }, data });
      if (count !== 1) throw new CmekError("The vault no longer names this job");
      const left = await tx.secretVersion.count({ where: { cmekFingerprint: job.oldFingerprint, secret: { vaultId: job.vaultId } } });
      if (left > 0) throw new Retry();
      await tx.cmekRotationJob.update({ where: { id: job.id }, data: { status: "completed", finishedAt: new Date() } });
    });
    return true;
  } catch (e) {
    if (e instanceof Retry) return false;
    throw e;
  }
}

/** A failed job frees the vault; versions already moved stay under the new key and the same rotation can be started again. */
async function fail(rt: Runtime, job: JobRow, error: string): Promise<void> {
  log.warn("cmek job failed", { jobId: job.id, vaultId: job.vaultId });
  await rt.db.$transaction(async (tx) => {
    await tx.vault.updateMany({ where: { id: job.vaultId, cmekRotationJobId: job.id }, data: { cmekRotationJobId: null } });
    await tx.cmekRotationJob.update({ where: { id: job.id }, data: { status: "failed", error: error.slice(0, 1000), finishedAt: new Date() } });
  });
}
