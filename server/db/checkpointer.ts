import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { log } from "../log";
import type { WriteGate } from "./write-gate";

/**
 * SQLite's WAL checkpoints, off the event loop. By default the connection whose COMMIT takes the WAL
 * past 1,000 pages copies them into the database file there and then, fsyncs included: with better-sqlite3
 * that COMMIT blocks the event loop for the whole checkpoint (≈ 9 ms on this machine's disk, every ≈ 100
 * PUT batches), and every request waits. Here a worker thread with its own connection runs a PASSIVE
 * checkpoint every `BUSY_MS` while the WAL grows (sooner when it grows fast enough to reach the next
 * mark below before then; backing off to `IDLE_MS` when it does not grow): PASSIVE
 * never waits for, nor blocks, the writer or the readers, and once it has copied every frame the next
 * write transaction starts the WAL from its beginning again, as after any checkpoint.
 *
 * Under a steady stream of writes that restart rarely comes: it needs a write to begin just when the
 * checkpoint has copied the last frame, and a commit lands during almost every checkpoint. The WAL then
 * grew to the fallback (10,068 frames in a PUT run, one sample in ten above 9,000), where the
 * writer checkpoints on the event loop after every COMMIT until it catches up. So once the WAL holds
 * `RESTART_PAGES` and the worker has caught up with it (below), it asks the main thread for the
 * writer's turn (the WriteGate, ./write-gate.ts). Holding it, nothing writes, so a RESTART checkpoint
 * copies the few frames committed since and, unless a reader is still on the WAL, starts it again; the
 * worker answers and the gate passes on. Writers wait for it as they wait for a transaction, without
 * blocking the event loop: had the worker taken SQLite's write lock on its own, the writer's BEGIN would
 * have slept in SQLite's busy handler (42 sleeps in 8 s of a PUT run, tried). The worker has no busy
 * timeout, so a RESTART that would have to wait (a reader still on the WAL) is only a PASSIVE one; the
 * worker asks again `BUSY_MS` later.
 *
 * A checkpoint syncs the database file only when it reaches the WAL's end, and that sync covers every
 * page copied since the last one: a RESTART asked for once a PASSIVE round had copied few frames held
 * the writers 3.6–17.7 ms (median ≈ 10) in a PUT run. So the worker first catches up (`catchUp`
 * below) until a round finds nothing new, the one before it having synced off the writer's turn: held
 * writes then waited 0.9–4.6 ms for 28 restarts in 31 of a PUT run, 11–18 ms for the other three.
 *
 * The writer keeps an automatic checkpoint as a fallback (`FALLBACK_PAGES`), so the WAL stays bounded
 * if the worker falls behind or is gone. A worker that stops on its own is started again after `IDLE_MS`.
 * Durability is unchanged: the same checkpoint, with the same syncs (synchronous = NORMAL), in another thread.
 */
export const FALLBACK_PAGES = 10_000;
const RESTART_PAGES = 4_000;
const URGENT_PAGES = 7_000;
const CATCH_UP_ROUNDS = 16;
const CATCH_UP_FRAMES = 128;
const BUSY_MS = 100;
const SOON_MS = 5;
const IDLE_MS = 1_000;

/** CommonJS, evaluated in the worker: `workerData` holds the database file and better-sqlite3's resolved path. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
// No busy timeout: a checkpoint that would have to wait returns busy instead.
const db = new Database(workerData.file, { fileMustExist: true, timeout: 0 });
db.pragma("synchronous = NORMAL");
let timer;
let delay = workerData.busyMs;
// The WAL's length at the last look, and when: its growth since says how soon it reaches the next mark.
let lastLog = -1;
let lastAt = Date.now();
// The wait before looking again after a checkpoint that could not run, doubled before each use.
let retry = workerData.soonMs / 2;
let reported = false;
function failed(e) {
  if (!reported) parentPort.postMessage({ failed: String(e && e.code || "error") });
  reported = true;
  delay = workerData.idleMs;
}
// A PASSIVE checkpoint; null if it could not run (another checkpoint, or a write restarting the WAL, held
// the lock it needs), which passes in a moment.
function passive() {
  const [r] = db.pragma("wal_checkpoint(PASSIVE)");
  return r.log < 0 ? null : r;
}
// After a PASSIVE checkpoint of a long WAL, more rounds, each copying what was committed during the
// last, until one finds nothing new: the round before it then reached the WAL's end, and so synced the
// database file. The writer's turn then covers only the frames committed while it is asked for, and
// their sync. Failing that within catchUpRounds, a last round that copied few frames will do (its copies
// since the last sync are synced on the writer's turn). Once the WAL is past urgentPages any round will
// do, at once: a longer turn, but no fallback checkpoint on the event loop (writers as fast as the rounds
// never let one find nothing new, and the WAL grows by a round's worth each time). A round a reader held
// back copied an unknown amount. Returns the last round's result, with caughtUp set; caughtUp is false
// too if the WAL was started again meanwhile.
function catchUp(r) {
  let copied = Infinity;
  for (let round = 0; round < workerData.catchUpRounds; round++) {
    if (r.log >= workerData.urgentPages) return { ...r, caughtUp: true };
    const next = passive();
    if (!next) {
      copied = Infinity;
      continue;
    }
    if (next.log < workerData.restartPages) return { ...next, caughtUp: false };
    copied = next.checkpointed === next.log ? next.log - r.log : Infinity;
    r = next;
    if (copied === 0) return { ...r, caughtUp: true };
  }
  return { ...r, caughtUp: copied <= workerData.catchUpFrames || r.log >= workerData.urgentPages };
}
function tick() {
  try {
    let r = passive();
    if (!r) {
      // Look again in a moment, backing off while the lock stays held.
      retry = Math.min(retry * 2, workerData.busyMs);
      timer = setTimeout(tick, retry);
      return;
    }
    retry = workerData.soonMs / 2;
    reported = false;
    // A long WAL, caught up with: ask for the writer's turn to start it again ("restart" below).
    if (r.log >= workerData.restartPages) {
      r = catchUp(r);
      if (r.caughtUp) return parentPort.postMessage({ restart: true });
    }
    const now = Date.now();
    // The WAL moved since the last look: look again soon. Otherwise back off.
    delay = r.log !== lastLog ? workerData.busyMs : Math.min(delay * 2, workerData.idleMs);
    // A WAL growing fast is looked at again halfway to when it should reach the next mark (restartPages,
    // or urgentPages if it could not be caught up with), not a whole busyMs later: writers adding
    // ≈ 35,000 frames a second (a test's, with rows of 3,000 bytes) took it from 3,831 frames to 8,214
    // between two looks, now and then to the fallback; aiming at the mark itself, a burst and a late
    // timer took it from 5,724 to 8,051.
    const mark = r.log < workerData.restartPages ? workerData.restartPages : workerData.urgentPages;
    const grew = r.log - lastLog;
    if (lastLog >= 0 && grew > 0 && r.log < mark) {
      delay = Math.max(workerData.soonMs, Math.min(delay, ((mark - r.log) * (now - lastAt)) / grew / 2));
    }
    lastLog = r.log;
    lastAt = now;
  } catch (e) {
    failed(e);
  }
  timer = setTimeout(tick, delay);
}
parentPort.on("message", (m) => {
  if (m === "restart") {
    // The main thread holds the write gate until this answers.
    try {
      const [r] = db.pragma("wal_checkpoint(RESTART)");
      // The WAL starts from its first frame with the next write; unless a reader kept it, and then asking
      // again before busyMs would only hold the writers again for nothing.
      if (r.busy === 0) [lastLog, lastAt] = [0, Date.now()];
      else delay = workerData.busyMs;
    } catch (e) {
      failed(e);
    } finally {
      parentPort.postMessage({ restarted: true });
    }
    timer = setTimeout(tick, delay);
  } else if (m === "declined") {
    timer = setTimeout(tick, delay);
  } else if (m === "close") {
    clearTimeout(timer);
    db.close();
    parentPort.close();
  }
});
timer = setTimeout(tick, delay);
`;

export class Checkpointer {
  private worker: Worker | null = null;
  /** What the worker checkpoints, kept to start it again. */
  private target: { file: string; gate: WriteGate } | null = null;
  private respawn: NodeJS.Timeout | null = null;
  private closed = false;
  private asked = 0;
  /** Gives the write gate back: set while the worker runs a RESTART checkpoint on the writer's turn. */
  private lent: (() => void) | null = null;

  /**
   * Starts checkpointing `file` (the writer's database file), whose writers take turns through `gate`;
   * idempotent, so every reconnect may call it.
   */
  start(file: string, gate: WriteGate): void {
    if (this.closed || this.worker || this.respawn) return;
    this.target = { file, gate };
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, driver, busyMs: BUSY_MS, soonMs: SOON_MS, idleMs: IDLE_MS, restartPages: RESTART_PAGES, urgentPages: URGENT_PAGES, catchUpRounds: CATCH_UP_ROUNDS, catchUpFrames: CATCH_UP_FRAMES },
      // A connection and a timer: a small heap is plenty.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
      stdout: false,
      stderr: false,
    });
    worker.unref();
    worker.on("message", (m: { failed?: string; restart?: true; restarted?: true }) => {
      if (m.failed) log.warn("sqlite: background checkpoint failed; the writer's automatic checkpoint still bounds the WAL", { code: m.failed });
      if (m.restart) {
        this.asked++;
        void this.lendWriterTo(worker, gate);
      }
      if (m.restarted) this.giveBack();
    });
    worker.on("error", (e) => log.warn("sqlite: background checkpointer stopped", { error: e.name }));
    worker.on("exit", () => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.giveBack();
      if (this.closed) return;
      this.respawn = setTimeout(() => {
        this.respawn = null;
        if (this.target) this.start(this.target.file, this.target.gate);
      }, IDLE_MS);
      this.respawn.unref();
    });
    this.worker = worker;
  }

  /**
   * Waits for the writer's turn, then lets the worker restart the WAL; the turn passes on when it answers
   * (or exits). Declined, the turn at once, if the database is closing or the worker was replaced.
   */
  private async lendWriterTo(worker: Worker, gate: WriteGate): Promise<void> {
    const release = await gate.acquire("checkpoint");
    if (this.closed || this.worker !== worker || this.lent) {
      release();
      worker.postMessage("declined");
      return;
    }
    this.lent = release;
    worker.postMessage("restart");
  }

  private giveBack(): void {
    const release = this.lent;
    this.lent = null;
    release?.();
  }

  /** How many times a worker asked for the writer's turn to restart the WAL (tests). */
  get asks(): number {
    return this.asked;
  }

  /** The worker's thread id while it runs (tests). */
  get threadId(): number | null {
    return this.worker?.threadId ?? null;
  }

  /** Stops the worker after its current checkpoint (closing its connection); resolves when it has exited. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.respawn) clearTimeout(this.respawn);
    this.respawn = null;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    worker.postMessage("close");
    const stuck = setTimeout(() => void worker.terminate(), 5_000);
    await exited;
    clearTimeout(stuck);
    this.worker = null;
    this.giveBack();
  }
}
