import type { Result, Router } from "hono/router";
import { PatternRouter } from "hono/router/pattern-router";

/**
 * Hono's PatternRouter (the only one of Hono's routers that matches every route shape the API has, see
 * server/api/app.ts) tries each route's regular expression in turn: ≈ 3 % of a secret read's CPU with
 * the API's few hundred routes. This router gives the same answers from a PatternRouter per bucket: the
 * routes whose first two path segments are static are put in the bucket those segments name (`v1/vaults`),
 * and the rest (middleware on `*`, a parameter or wildcard early in the path) in every bucket, in the
 * order they were added. A request is matched against its own bucket only, or against the routes of
 * every bucket if no route starts like it.
 */
export class BucketRouter<T> implements Router<T> {
  readonly name = "BucketRouter";
  private readonly routes: { method: string; path: string; handler: T; key: string | null }[] = [];
  private buckets: Map<string, PatternRouter<T>> | null = null;
  private everywhere: PatternRouter<T> | null = null;

  add(method: string, path: string, handler: T): void {
    if (this.buckets) throw new Error("BucketRouter: routes cannot be added after the first match");
    this.routes.push({ method, path, handler, key: staticKeyOf(path) });
  }

  match(method: string, path: string): Result<T> {
    if (!this.buckets) this.build();
    return (this.buckets!.get(keyOf(path)) ?? this.everywhere!).match(method, path);
  }

  private build() {
    const keys = new Set(this.routes.flatMap((r) => (r.key === null ? [] : [r.key])));
    const router = (key: string | null) => {
      const r = new PatternRouter<T>();
      for (const route of this.routes) if (route.key === null || route.key === key) r.add(route.method, route.path, route.handler);
      return r;
    };
    this.buckets = new Map([...keys].map((k) => [k, router(k)]));
    this.everywhere = router(null);
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
