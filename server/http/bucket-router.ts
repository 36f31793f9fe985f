import { METHOD_NAME_ALL, type Params, type Result, type Router } from "hono/router";
import { PatternRouter } from "hono/router/pattern-router";

/**
 * Hono's PatternRouter (the only one of Hono's routers that matches every route shape the API has, see
 * server/api/app.ts) tries each route's regular expression in turn: ≈ 3 % of a secret read's CPU with
 * the API's few hundred routes. This router gives the same answers from a PatternRouter per bucket: the
 * routes whose first two path segments are static are put in the bucket those segments name (`v1/vaults`),
 * and the rest (middleware on `*`, a parameter or wildcard early in the path) in every bucket, in the
 * order they were added. A request is matched against its own bucket only, or against the routes of
 * every bucket if no route starts like it. Within a bucket, consecutive routes of the same method and
 * path (a route's validators, guards and handler are added one after another) are one entry: its
 * pattern is tested once and answers with all their handlers, in order — a GET of a secret tested
 * ≈ 60 patterns of its bucket before, a third of that now.
 *
 * Answers are also remembered per method and path (agents read the same few paths again and again): a
 * repeated request costs one Map lookup instead of its bucket's patterns. Hono only reads an answer
 * (its handlers, and parameters it decodes into new objects), so one answer can serve every request for
 * that path. At most MEMO_ENTRIES are kept, emptied when full; paths longer than MEMO_PATH_MAX are
 * matched but not remembered, so the memo holds at most a few megabytes whatever the requests are.
 */
const MEMO_ENTRIES = 4096;
const MEMO_PATH_MAX = 512;

export class BucketRouter<T> implements Router<T> {
  readonly name = "BucketRouter";
  private readonly routes: { method: string; path: string; handler: T; key: string | null }[] = [];
  private buckets: Map<string, GroupedRoutes<T>> | null = null;
  private everywhere: GroupedRoutes<T> | null = null;
  private readonly memo = new Map<string, Result<T>>();

  add(method: string, path: string, handler: T): void {
    if (this.buckets) throw new Error("BucketRouter: routes cannot be added after the first match");
    this.routes.push({ method, path, handler, key: staticKeyOf(path) });
  }

  match(method: string, path: string): Result<T> {
    if (path.length > MEMO_PATH_MAX) return this.matchBucket(method, path);
    const key = `${method} ${path}`;
    const known = this.memo.get(key);
    if (known !== undefined) return known;
    const result = this.matchBucket(method, path);
    if (this.memo.size >= MEMO_ENTRIES) this.memo.clear();
    this.memo.set(key, result);
    return result;
  }

  private matchBucket(method: string, path: string): Result<T> {
    if (!this.buckets) this.build();
    return (this.buckets!.get(keyOf(path)) ?? this.everywhere!).match(method, path);
  }

  private build() {
    const keys = new Set(this.routes.flatMap((r) => (r.key === null ? [] : [r.key])));
    const router = (key: string | null) => new GroupedRoutes(this.routes.filter((route) => route.key === null || route.key === key));
    this.buckets = new Map([...keys].map((k) => [k, router(k)]));
    this.everywhere = router(null);
  }
}

/**
 * PatternRouter's answers for `routes`, with each run of consecutive routes of one method and path
 * matched once. Each run has a PatternRouter of its own holding that one route, so the path is turned
 * into a pattern (and its `?`/`*` forms) by Hono's own code; the run's handlers share its parameters.
 */
class GroupedRoutes<T> {
  private readonly runs: { method: string; matcher: PatternRouter<0>; handlers: T[] }[] = [];

  constructor(routes: readonly { method: string; path: string; handler: T }[]) {
    let previous: { method: string; path: string } | null = null;
    for (const route of routes) {
      if (previous && previous.method === route.method && previous.path === route.path) {
        this.runs.at(-1)!.handlers.push(route.handler);
      } else {
        const matcher = new PatternRouter<0>();
        matcher.add(route.method, route.path, 0);
        this.runs.push({ method: route.method, matcher, handlers: [route.handler] });
      }
      previous = route;
    }
  }

  match(method: string, path: string): Result<T> {
    const handlers: [T, Params][] = [];
    for (const run of this.runs) {
      if (run.method !== method && run.method !== METHOD_NAME_ALL) continue;
      // A path ending in an optional parameter (`/:id?`) is two patterns in the run's PatternRouter, one
      // segment apart, so at most one of them matches a path: the order is PatternRouter's.
      for (const [, params] of run.matcher.match(method, path)[0]) for (const h of run.handlers) handlers.push([h, params as Params]);
    }
    return [handlers];
  }
}

/** A request path's bucket: its first two segments (`/v1/vaults/x` → `v1/vaults`; `/v1` and `/v1/` → `v1/`). */
export function keyOf(path: string): string {
  const s = path.split("/", 3);
  return `${s[1] ?? ""}/${s[2] ?? ""}`;
}

/** A route path's bucket, or null when its first two segments are not plain text (a parameter, wildcard, optional or pattern). */
export function staticKeyOf(path: string): string | null {
  if (!path.startsWith("/")) return null;
  const s = path.split("/", 3);
  const first = s[1] ?? "";
  const second = s[2] ?? "";
  // A route that ends after one segment (`/v1`) also answers `/v1/`; one that ends after two answers
  // `/v1/vaults/`: both stay in their request's bucket. A trailing `*` or `?`, a `:param` or a `{pattern}`
  // could reach other buckets.
  return /[:*?{}()]/.test(first) || /[:*?{}()]/.test(second) ? null : `${first}/${second}`;
}
