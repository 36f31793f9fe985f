/**
 * A value known now, or a promise of it. The request hot path returns the value itself when nothing
 * had to wait (a cached row, a SQLite read): every promise a request creates costs a turn of the
 * microtask queue and an allocation (docs/perf: "Requests validated, authenticated and read at once").
 */
export type AtOnce<T> = T | Promise<T>;

/**
 * `next` applied to `x`: now when `x` is a value, once it settles when it is a promise. A rejection
 * passes through; a throw from `next` on a value is a throw, so callers handle both as one failure
 * (an async caller's `try`, Hono's compose).
 */
export function thenAtOnce<T, U>(x: AtOnce<T>, next: (value: T) => AtOnce<U>): AtOnce<U> {
  return x instanceof Promise ? x.then(next) : next(x);
}

/** `x` as a promise: a value becomes a settled one. */
export function asPromise<T>(x: AtOnce<T>): Promise<T> {
  return x instanceof Promise ? x : Promise.resolve(x);
}
