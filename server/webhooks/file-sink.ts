import { appendFile, rename, rm, stat } from "node:fs/promises";
import type { Db } from "../db";
import { log } from "../log";
import { type AuditEventForSinks, auditRecord } from "./events";
import { auditFileSinks } from "./outbox";

/**
 * The operator's audit file (TALON_AUDIT_FILE): every audit event this instance writes, as NDJSON
 * with the chain fields of the audit export, rotated by size (`path` → `path.1` → … → `path.<keep>`).
 * Operator-level on purpose: a tenant never chooses a path on the server.
 *
 * The chain hands over each event inside its transaction (./outbox); an event is written only once it
 * is visible as committed (looked up by id), so a rolled-back change never reaches the file. One
 * still invisible after a minute was rolled back and is dropped. The file holds the events written
 * through this instance: with several instances, each has its own file (or use a webhook sink).
 * Events noted in the last moment before a crash may be missing from the file; the database (and
 * GET /v1/audit/export) always has them.
 */
const GIVE_UP_MS = 60_000;
const CHECK_EVERY_MS = 250;
const MAX_PENDING = 100_000;

type Pending = { row: AuditEventForSinks; at: number };

export class AuditFileSink {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private size: number | null = null;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly file: { path: string; maxBytes: number; keep: number },
  ) {}

  start() {
    auditFileSinks.add(this);
    this.schedule();
  }

  note(rows: readonly AuditEventForSinks[]) {
    if (this.stopped) return;
    const at = Date.now();
    for (const row of rows) this.pending.push({ row, at });
    // Bounded: a database that stopped committing must not grow this forever.
    if (this.pending.length > MAX_PENDING) this.pending.splice(0, this.pending.length - MAX_PENDING);
  }

  private schedule() {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.flush()
        .catch((e: unknown) => log.error("could not write the audit file", { error: e instanceof Error ? e.message : "unknown" }))
        .finally(() => this.schedule());
    }, CHECK_EVERY_MS);
  }

  /** Writes every pending event now committed; keeps the rest for the next round. */
  async flush(): Promise<number> {
    if (this.pending.length === 0) return 0;
    const batch = this.pending.slice(0, 1000);
    const found = new Set(
      (await this.db.auditEvent.findMany({ where: { id: { in: batch.map((p) => p.row.id) } }, select: { id: true } })).map((r) => r.id),
    );
    const now = Date.now();
    const lines: string[] = [];
    const done = new Set<Pending>();
    for (const p of batch) {
      if (found.has(p.row.id)) {
        lines.push(`${JSON.stringify(auditRecord(p.row))}\n`);
        done.add(p);
      } else if (now - p.at > GIVE_UP_MS) done.add(p);
    }
    this.pending = this.pending.filter((p) => !done.has(p));
    if (lines.length) await this.append(lines);
    return lines.length;
  }

  /** Appends lines, rotating first whenever the next line would take the file past maxBytes (a longer line gets a file of its own). */
  private async append(lines: string[]) {
    if (this.size === null) this.size = await stat(this.file.path).then((s) => s.size, () => 0);
    let chunk = "";
    let chunkBytes = 0;
    for (const line of lines) {
      const bytes = Buffer.byteLength(line);
      if (this.size + chunkBytes > 0 && this.size + chunkBytes + bytes > this.file.maxBytes) {
        if (chunk) await appendFile(this.file.path, chunk, { mode: 0o600 });
        chunk = "";
        chunkBytes = 0;
        await this.rotate();
      }
      chunk += line;
      chunkBytes += bytes;
    }
    if (chunk) await appendFile(this.file.path, chunk, { mode: 0o600 });
    this.size += chunkBytes;
  }

  private async rotate() {
    const { path, keep } = this.file;
    await rm(`${path}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => {});
    await rename(path, `${path}.1`);
    this.size = 0;
  }

  /** Stops taking events and writes what is committed. */
  async stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    auditFileSinks.delete(this);
    await this.flush().catch(() => 0);
  }
}
