/**
 * Coalesces the lookups made in one turn of the event loop into one `loadMany` call — on PostgreSQL one
 * statement and one round trip for every request parsed in that turn, instead of one each. Under load a
 * statement's cost is mostly its own (the socket write that wakes a database backend, the protocol, the
 * executor's start-up), not its rows.
 *
 * A lookup waits at most for the rest of the current turn (`setImmediate`), so a lone request is not
 * delayed. Each caller gets the result at its own key's index; if `loadMany` fails, every caller of that
 * batch gets its error (nothing is retried one by one behind the caller's back).
 *
 * With `keyOf`, lookups of equal keys in one batch share one slot (and one result object): `loadMany`
 * sees each key once. A lookup never joins a batch already sent, so no caller is answered with data read
 * before it asked.
 */
export class ReadBatch<K, R> {
  private keys: K[] = [];
  private waiters: { resolve(r: R): void; reject(e: unknown): void }[][] = [];
  private slots = new Map<string, number>();
  private scheduled: NodeJS.Immediate | null = null;
  private readonly maxBatch: number;
  private readonly keyOf: ((key: K) => string) | undefined;

  /** `loadMany` resolves with one result per key, in the keys' order; a batch holds at most `maxBatch` distinct keys. */
  constructor(
    private readonly loadMany: (keys: readonly K[]) => Promise<readonly R[]>,
    options: { maxBatch?: number; keyOf?: (key: K) => string } = {},
  ) {
    this.maxBatch = options.maxBatch ?? 256;
    this.keyOf = options.keyOf;
  }

  load(key: K): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const id = this.keyOf?.(key);
      let slot = id === undefined ? undefined : this.slots.get(id);
      if (slot === undefined) {
        slot = this.keys.push(key) - 1;
        this.waiters.push([]);
        if (id !== undefined) this.slots.set(id, slot);
      }
      this.waiters[slot]!.push({ resolve, reject });
      if (this.keys.length >= this.maxBatch) this.flush();
      else this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    const keys = this.keys;
    const waiters = this.waiters;
    this.keys = [];
    this.waiters = [];
    this.slots = new Map();
    if (keys.length === 0) return;
    Promise.resolve()
      .then(() => this.loadMany(keys))
      .then((results) => {
        if (results.length !== keys.length) throw new Error(`A batched load answered ${results.length} results for ${keys.length} keys`);
        waiters.forEach((ws, i) => {
          for (const w of ws) w.resolve(results[i]!);
        });
      })
      .catch((e: unknown) => {
        for (const ws of waiters) for (const w of ws) w.reject(e);
      });
  }
}

/** `make`'s batch for each client (a database client, say), made on its first use and kept while the client lives. */
export function batchPerClient<C extends object, K, R>(make: (client: C) => ReadBatch<K, R>): (client: C) => ReadBatch<K, R> {
  const batches = new WeakMap<C, ReadBatch<K, R>>();
  return (client) => {
    let batch = batches.get(client);
    if (!batch) batches.set(client, (batch = make(client)));
    return batch;
  };
}
