import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { log } from "../log";

/**
 * SQLite's WAL checkpoints, off the event loop. By default the connection whose COMMIT takes the WAL
 * past 1,000 pages copies them into the database file there and then, fsyncs included: with better-sqlite3
 * that COMMIT blocks the event loop for the whole checkpoint (≈ 9 ms on this machine's disk, every ≈ 100
 * PUT batches), and every request waits. Here a worker thread with its own connection runs a PASSIVE
 * checkpoint every `BUSY_MS` while the WAL grows (backing off to `IDLE_MS` when it does not): PASSIVE
 * never waits for, nor blocks, the writer or the readers, and once it has copied every frame the next
 * write transaction starts the WAL from its beginning again, as after any checkpoint.
 *
 * The writer keeps an automatic checkpoint as a fallback (`FALLBACK_PAGES`), so the WAL stays bounded
 * if the worker falls behind or is gone. A worker that stops on its own is started again after `IDLE_MS`.
 * Durability is unchanged: the same checkpoint, with the same syncs (synchronous = NORMAL), in another thread.
 */
export const FALLBACK_PAGES = 10_000;
const BUSY_MS = 100;
const IDLE_MS = 1_000;

/** CommonJS, evaluated in the worker: `workerData` holds the database file and better-sqlite3's resolved path. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma("synchronous = NORMAL");
let timer;
let delay = workerData.busyMs;
let lastLog = -1;
let reported = false;
function tick() {
  try {
    const [r] = db.pragma("wal_checkpoint(PASSIVE)");
    // The WAL moved since the last look: look again soon. Otherwise back off.
    delay = r.log !== lastLog ? workerData.busyMs : Math.min(delay * 2, workerData.idleMs);
    lastLog = r.log;
    reported = false;
  } catch (e) {
    if (!reported) parentPort.postMessage({ failed: String(e && e.code || "error") });
    reported = true;
    delay = workerData.idleMs;
  }
  timer = setTimeout(tick, delay);
}
parentPort.on("message", (m) => {
  if (m === "close") {
    clearTimeout(timer);
    db.close();
    parentPort.close();
  }
});
timer = setTimeout(tick, delay);
`;

export class Checkpointer {
  private worker: Worker | null = null;
  private file: string | null = null;
  private restart: NodeJS.Timeout | null = null;
  private closed = false;

  /** Starts checkpointing `file` (the writer's database file); idempotent, so every reconnect may call it. */
  start(file: string): void {
    if (this.closed || this.worker || this.restart) return;
    this.file = file;
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, driver, busyMs: BUSY_MS, idleMs: IDLE_MS },
      // A connection and a timer: a small heap is plenty.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
      stdout: false,
      stderr: false,
    });
    worker.unref();
    worker.on("message", (m: { failed?: string }) => {
      if (m.failed) log.warn("sqlite: background checkpoint failed; the writer's automatic checkpoint still bounds the WAL", { code: m.failed });
    });
    worker.on("error", (e) => log.warn("sqlite: background checkpointer stopped", { error: e.name }));
    worker.on("exit", () => {
      if (this.worker !== worker) return;
      this.worker = null;
      if (this.closed) return;
      this.restart = setTimeout(() => {
        this.restart = null;
        if (this.file) this.start(this.file);
      }, IDLE_MS);
      this.restart.unref();
    });
    this.worker = worker;
  }

  /** The worker's thread id while it runs (tests). */
  get threadId(): number | null {
    return this.worker?.threadId ?? null;
  }

  /** Stops the worker after its current checkpoint (closing its connection); resolves when it has exited. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.restart) clearTimeout(this.restart);
    this.restart = null;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    worker.postMessage("close");
    const stuck = setTimeout(() => void worker.terminate(), 5_000);
    await exited;
    clearTimeout(stuck);
    this.worker = null;
  }
}
