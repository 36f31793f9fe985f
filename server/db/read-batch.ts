/**
 * Coalesces the lookups made in one turn of the event loop into one `loadMany` call — on PostgreSQL one
 * statement and one round trip for every request parsed in that turn, instead of one each. Under load a
 * statement's cost is mostly its own (the socket write that wakes a database backend, the protocol, the
 * executor's start-up), not its rows.
 *
 * A lookup waits at most for the rest of the current turn (`setImmediate`), so a lone request is not
 * delayed. Each caller gets the result at its own index; if `loadMany` fails, every caller of that
 * batch gets its error (nothing is retried one by one behind the caller's back).
 */
export class ReadBatch<K, R> {
  private pending: { key: K; resolve(r: R): void; reject(e: unknown): void }[] = [];
  private scheduled: NodeJS.Immediate | null = null;

  /** `loadMany` resolves with one result per key, in the keys' order. */
  constructor(
    private readonly loadMany: (keys: readonly K[]) => Promise<readonly R[]>,
    private readonly maxBatch = 256,
  ) {}

  load(key: K): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ key, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    Promise.resolve()
      .then(() => this.loadMany(batch.map((b) => b.key)))
      .then(
        (results) => {
          if (results.length !== batch.length) throw new Error(`A batched load answered ${results.length} results for ${batch.length} keys`);
          batch.forEach((b, i) => b.resolve(results[i]!));
        },
      )
      .catch((e: unknown) => {
        for (const b of batch) b.reject(e);
      });
  }
}
