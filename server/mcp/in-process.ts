import type { ApiEnv } from "../http/env";

/**
 * The `fetch` the hosted tools' SDK client calls the REST API with: every call is a full pass through
 * the Hono app (`app.fetch`, the same pipeline, routes and checks as a request from the network),
 * only without building web objects nothing in that pipeline needs.
 *
 * `app.request` builds an undici `Request` (URL parsing, header validation, an AbortController) for
 * each call, and the SDK client's `res.text()` turns @hono/node-server's light answer into a full
 * undici `Response` and reads it through a web stream: together ≈ 5 % of a hosted `get_secret`'s CPU.
 * Here a bodiless GET/HEAD/DELETE goes to `app.fetch` as an InProcessRequest (method, URL and headers
 * as undici would present them; anything else it is asked for comes from a real Request built then),
 * and the body of a light answer is read as the string it holds. A call with a body (or a signal, or
 * headers undici would refuse or rewrite) goes through `app.request` exactly as before.
 */

/** How many calls went to the app as an InProcessRequest (tests check the light path is taken). */
export const inProcessCalls = { light: 0 };

type App = {
  fetch(request: Request, env?: ApiEnv["Bindings"]): Response | Promise<Response>;
  request(input: string | Request | URL, init?: RequestInit, env?: ApiEnv["Bindings"]): Response | Promise<Response>;
};

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A header value undici takes as it is: visible ASCII, space and tab inside, nothing to trim at either end. */
const PLAIN_VALUE = /^(?:[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?$/;
const BODILESS = new Set(["GET", "HEAD", "DELETE"]);

/** Headers as a lower-cased map: what `Headers` answers for the names and values PLAIN_VALUE admits. */
class InProcessHeaders {
  constructor(private readonly map: Map<string, string>) {}
  get(name: string): string | null {
    return this.map.get(String(name).toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.map.has(String(name).toLowerCase());
  }
  set(name: string, value: string): void {
    this.map.set(String(name).toLowerCase(), String(value));
  }
  append(name: string, value: string): void {
    const k = String(name).toLowerCase();
    const v = this.map.get(k);
    this.map.set(k, v === undefined ? String(value) : `${v}, ${value}`);
  }
  delete(name: string): void {
    this.map.delete(String(name).toLowerCase());
  }
  getSetCookie(): string[] {
    const v = this.map.get("set-cookie");
    return v === undefined ? [] : [v];
  }
  /** Sorted by name, as Headers iterates. */
  *entries(): IterableIterator<[string, string]> {
    for (const k of [...this.map.keys()].sort()) yield [k, this.map.get(k)!];
  }
  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }
  *values(): IterableIterator<string> {
    for (const [, v] of this.entries()) yield v;
  }
  forEach(callback: (value: string, key: string, parent: unknown) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) callback.call(thisArg, v, k, this);
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}
Object.setPrototypeOf(InProcessHeaders.prototype, Headers.prototype);

/** A bodiless request as the pipeline reads it; any other property comes from a real Request made on first use. */
class InProcessRequest {
  private real: Request | null = null;
  constructor(
    readonly method: string,
    readonly url: string,
    readonly headers: InProcessHeaders,
  ) {}
  private materialize(): Request {
    return (this.real ??= new Request(this.url, { method: this.method, headers: [...this.headers.entries()] }));
  }
  get body(): null {
    return null;
  }
  get bodyUsed(): boolean {
    return false;
  }
  get signal(): AbortSignal {
    return this.materialize().signal;
  }
  text(): Promise<string> {
    return Promise.resolve("");
  }
  json(): Promise<unknown> {
    return this.materialize().json();
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(new ArrayBuffer(0));
  }
  blob(): Promise<Blob> {
    return this.materialize().blob();
  }
  formData(): Promise<FormData> {
    return this.materialize().formData();
  }
  clone(): Request {
    return this.materialize().clone();
  }
}
for (const k of ["cache", "credentials", "destination", "duplex", "integrity", "keepalive", "mode", "redirect", "referrer", "referrerPolicy"]) {
  Object.defineProperty(InProcessRequest.prototype, k, {
    get(this: InProcessRequest) {
      return (this as unknown as { materialize(): Request }).materialize()[k as keyof Request];
    },
  });
}
Object.setPrototypeOf(InProcessRequest.prototype, Request.prototype);

/** The plain headers of a call, or null when undici would refuse or rewrite one of them (then app.request decides). */
function plainHeaders(init: HeadersInit | undefined): InProcessHeaders | null {
  const map = new Map<string, string>();
  if (init === undefined) return new InProcessHeaders(map);
  if (typeof init !== "object" || init instanceof Headers || Array.isArray(init) || Symbol.iterator in init) return null;
  for (const [name, value] of Object.entries(init)) {
    if (typeof value !== "string" || !TOKEN.test(name) || !PLAIN_VALUE.test(value)) return null;
    const k = name.toLowerCase();
    if (map.has(k)) return null;
    map.set(k, value);
  }
  return new InProcessHeaders(map);
}

/** @hono/node-server's light Response keeps `[status, body, headers]` under a private symbol ("cache"). */
let lightBodyKey: symbol | null | undefined;
function lightBody(res: Response): string | null {
  if (lightBodyKey === undefined) {
    lightBodyKey = Object.getOwnPropertySymbols(res).find((s) => s.description === "cache") ?? null;
  }
  if (lightBodyKey === null) {
    // Not learnt yet (a full Response came first): look again next time.
    lightBodyKey = undefined;
    return null;
  }
  const cache = (res as unknown as Record<symbol, unknown>)[lightBodyKey];
  return Array.isArray(cache) && cache[0] === res.status && typeof cache[1] === "string" ? cache[1] : null;
}

export function inProcessFetch(app: App, env: ApiEnv["Bindings"]): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const method = init?.method ?? "GET";
    const headers = input instanceof Request || init?.body != null || init?.signal || !BODILESS.has(method) ? null : plainHeaders(init?.headers);
    if (!headers) return app.request(input instanceof Request ? input : String(input), init, env);
    inProcessCalls.light++;
    const url = input instanceof URL ? input.href : new URL(String(input)).href;
    const res = await app.fetch(new InProcessRequest(method, url, headers) as unknown as Request, env);
    const body = lightBody(res);
    // The answer never leaves the tools' client, which reads its body once, as text.
    if (body !== null) Object.defineProperty(res, "text", { value: () => Promise.resolve(body) });
    return res;
  }) as typeof fetch;
}
