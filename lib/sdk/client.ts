/**
 * The one HTTP transport behind the SDK, the `talon` CLI and the MCP server. Browser-safe: only
 * `fetch`, no Node imports. Every call resolves to `{ data, error, meta }`; HTTP and network failures
 * are values, never exceptions (only programmer errors throw). Nothing is retried silently.
 */
import { isJwtShaped } from "../jwt-shape";
import { createDpopProof, type DpopKey, dpopKeyFromKeyPair } from "./dpop";

export type SdkError = {
  /** The problem's `type` when it names one (`resource_limit_exceeded`, …), else a code for the status (`not_found`, …). */
  type: string;
  /** Short and generic: the problem's title ("Not Found"). */
  message: string;
  /** Human-readable and specific: the problem's `detail`. Safe to show; never holds a secret. */
  detail: string;
  /** For 400s: which inputs failed. */
  fields?: Array<{ field: string; message: string }>;
};

export type SdkMeta = { status: number; requestId: string | null };
export type SdkResponse<T> = { data: T; error: null; meta: SdkMeta } | { data: null; error: SdkError; meta: SdkMeta };

export type TokenSet = { access_token: string; expires_in: number; refresh_token?: string };

export type ClientOptions = {
  /** e.g. `https://talon.example.com` (no `/v1`). */
  baseUrl: string;
  /** With `apiKey` (an `ocv_` key): exchanged for a JWT at `POST /v1/auth/agent-token`, refreshed before expiry. */
  agentId?: string;
  /** `1ck_…` or `ocv_…`. Without `agentId`, sent as the Bearer token as is. */
  apiKey?: string;
  /** A JWT (or key) to send as the Bearer token. */
  token?: string;
  /** A user's refresh token: when `token` expires (or is absent), `POST /v1/auth/refresh` mints a new pair. */
  refreshToken?: string;
  /** Epoch ms at which `token` expires; with `refreshToken`, lets the client refresh ahead of time. */
  tokenExpiresAt?: number;
  /** Called with every token pair the client obtains (login, refresh), e.g. to persist it. */
  onTokens?: (tokens: TokenSet) => void;
  /** Refresh this many seconds before a JWT expires (default 60). */
  refreshSkewSeconds?: number;
  fetch?: typeof fetch;
  /** Extra headers sent on every request (e.g. `User-Agent` in Node). */
  headers?: Record<string, string>;
  /**
   * DPoP (RFC 9449): with `agentId` + `apiKey`, the exchanged token is bound to this key (a proof on
   * the exchange), and every request sends `Authorization: DPoP <token>` with a fresh proof. A
   * bound `token` passed directly is sent the same way. See `generateDpopKey()` in ./dpop.
   */
  dpopKey?: DpopKey | CryptoKeyPair;
};

type Query = Record<string, string | number | boolean | undefined | null>;
export type RequestOptions = { query?: Query; body?: unknown; auth?: boolean; headers?: Record<string, string>; signal?: AbortSignal };

const STATUS_TYPES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  402: "payment_required",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  410: "gone",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "unprocessable_entity",
  429: "rate_limited",
  503: "service_unavailable",
};

/** Secret paths keep their `/`; each segment is percent-encoded on its own. */
export const encodeSecretPath = (path: string) => path.split("/").map(encodeURIComponent).join("/");

/**
 * URL parsing folds `.`/`..` segments (even percent-encoded ones) and `new URL` would send
 * `a/../b` as `b`: such a path is refused here, as the server would refuse it, without a request.
 */
export function secretPathError(path: string): SdkResponse<never> | null {
  if (typeof path !== "string") throw new TypeError("secret path must be a string");
  if (!path.split("/").some((s) => s === "" || s === "." || s === "..")) return null;
  const detail = "Invalid path: must not be empty or contain empty, '.' or '..' segments";
  return { data: null, error: { type: "bad_request", message: "Bad Request", detail, fields: [{ field: "path", message: detail }] }, meta: { status: 0, requestId: null } };
}
/** One path segment (an id). `.`/`..` would be folded away by URL parsing, so they are refused. */
export function seg(id: string): string {
  if (typeof id !== "string" || id === "" || id === "." || id === "..") throw new TypeError(`invalid id: ${JSON.stringify(id)}`);
  return encodeURIComponent(id);
}

function requireString(name: string, v: unknown): string {
  if (typeof v !== "string" || v.length === 0) throw new TypeError(`${name} must be a non-empty string`);
  return v;
}

function errorFrom(status: number, body: unknown, fallback: string): SdkError {
  const p = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  const problemType = typeof p.type === "string" && p.type !== "about:blank" ? p.type : undefined;
  const detail = typeof p.detail === "string" ? p.detail : fallback;
  return {
    type: problemType ?? STATUS_TYPES[status] ?? (status >= 500 ? "server_error" : "http_error"),
    message: typeof p.title === "string" ? p.title : `HTTP ${status}`,
    detail,
    ...(Array.isArray(p.fields) ? { fields: p.fields as SdkError["fields"] } : {}),
  };
}

type Credential = { token: string; expiresAt: number | null; refreshToken?: string };

export class Transport {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly skewMs: number;
  private cred: Credential | null;
  private pending: Promise<SdkResponse<Credential>> | null = null;
  private readonly dpopKey: Promise<DpopKey> | null;

  constructor(private readonly opts: ClientOptions) {
    this.baseUrl = requireString("baseUrl", opts.baseUrl).replace(/\/+$/, "");
    if (!/^https?:\/\//.test(this.baseUrl)) throw new TypeError("baseUrl must start with http:// or https://");
    if (opts.agentId !== undefined && opts.apiKey === undefined) throw new TypeError("agentId needs apiKey");
    const f = opts.fetch ?? globalThis.fetch;
    if (typeof f !== "function") throw new TypeError("no fetch implementation: pass options.fetch");
    this.fetchImpl = f.bind(globalThis);
    this.skewMs = (opts.refreshSkewSeconds ?? 60) * 1000;
    const direct = opts.token ?? (opts.agentId ? undefined : opts.apiKey);
    this.cred = direct || opts.refreshToken ? { token: direct ?? "", expiresAt: opts.tokenExpiresAt ?? null, refreshToken: opts.refreshToken } : null;
    const k = opts.dpopKey;
    this.dpopKey = k === undefined ? null : "thumbprint" in k ? Promise.resolve(k) : dpopKeyFromKeyPair(k);
    // Surfaced when a request needs the key; not an unhandled rejection before that.
    this.dpopKey?.catch(() => undefined);
  }

  /** True when the client holds (or can obtain) credentials. */
  get authenticated(): boolean {
    return this.cred !== null || this.exchangesAgentKey;
  }

  private get exchangesAgentKey(): boolean {
    return Boolean(this.opts.agentId && this.opts.apiKey);
  }

  /** Replaces the credential (after a login) and reports it through `onTokens`. */
  useTokens(tokens: TokenSet): void {
    const refreshToken = tokens.refresh_token ?? this.cred?.refreshToken;
    this.cred = { token: tokens.access_token, expiresAt: Date.now() + tokens.expires_in * 1000, refreshToken };
    this.opts.onTokens?.(tokens);
  }

  /** Forgets the credential; an agent-key client exchanges again on its next call. */
  clearToken(): void {
    this.cred = null;
  }

  private fresh(c: Credential | null): boolean {
    return c !== null && c.token !== "" && (c.expiresAt === null || Date.now() < c.expiresAt - this.skewMs);
  }

  /**
   * The Bearer token for the next call: the cached one while it is fresh, else one exchange (agent
   * key) or refresh (user refresh token) shared by every call waiting on it.
   */
  async bearer(): Promise<SdkResponse<string | null>> {
    const meta = { status: 0, requestId: null };
    const current = this.cred;
    if (current && this.fresh(current)) return { data: current.token, error: null, meta };
    const renewable = this.exchangesAgentKey || Boolean(current?.refreshToken);
    if (!renewable) return { data: current?.token || null, error: null, meta };
    this.pending ??= this.renew().finally(() => {
      this.pending = null;
    });
    const r = await this.pending;
    return r.error ? r : { data: r.data.token, error: null, meta: r.meta };
  }

  private async renew(): Promise<SdkResponse<Credential>> {
    const refreshToken = this.cred?.refreshToken;
    const dpop = this.exchangesAgentKey && this.dpopKey ? await this.dpopKey : null;
    const exchangeHeaders = dpop ? { DPoP: await createDpopProof(dpop, { htm: "POST", htu: `${this.baseUrl}/v1/auth/agent-token` }) } : undefined;
    const r = this.exchangesAgentKey
      ? await this.send<TokenSet>("POST", "/v1/auth/agent-token", { auth: false, headers: exchangeHeaders, body: { agent_id: this.opts.agentId, api_key: this.opts.apiKey } })
      : await this.send<TokenSet>("POST", "/v1/auth/refresh", { auth: false, body: { refresh_token: refreshToken } });
    if (r.error) return r;
    this.useTokens(r.data);
    return { data: this.cred!, error: null, meta: r.meta };
  }

  /** One API call. `auth: false` sends no credentials (login, signup, public shares). */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<SdkResponse<T>> {
    let token: string | null = null;
    if (opts.auth !== false) {
      const b = await this.bearer();
      if (b.error) return b;
      token = b.data;
    }
    const r = await this.send<T>(method, path, opts, token);
    // Never retried: the caller sees the 401. A token that was refused is dropped so the next call
    // starts from the credentials again (a fresh exchange or refresh) instead of repeating it.
    if (r.meta.status === 401 && token !== null && this.cred?.token === token && (this.exchangesAgentKey || this.cred.refreshToken)) {
      this.cred = this.cred.refreshToken ? { ...this.cred, token: "", expiresAt: 0 } : null;
    }
    return r;
  }

  private async send<T>(method: string, path: string, opts: RequestOptions, token: string | null = null): Promise<SdkResponse<T>> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { Accept: "application/json", ...this.opts.headers, ...opts.headers };
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    if (token) {
      // A JWT with a DPoP key is sent bound: scheme DPoP and a proof for exactly this request.
      const dpop = this.dpopKey && isJwtShaped(token) ? await this.dpopKey : null;
      headers.Authorization = `${dpop ? "DPoP" : "Bearer"} ${token}`;
      if (dpop) headers.DPoP = await createDpopProof(dpop, { htm: method, htu: url.href, accessToken: token });
    }
    let res: Response;
    try {
      res = await this.fetchImpl(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: opts.signal });
    } catch (e) {
      const reason = e instanceof Error ? e.message : "request failed";
      return { data: null, error: { type: "network_error", message: "Network error", detail: `Could not reach ${this.baseUrl}: ${reason}` }, meta: { status: 0, requestId: null } };
    }
    const meta = { status: res.status, requestId: res.headers.get("x-request-id") };
    const text = await res.text().catch(() => "");
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
    }
    if (!res.ok) return { data: null, error: errorFrom(res.status, body, res.statusText || `HTTP ${res.status}`), meta };
    return { data: body as T, error: null, meta };
  }
}
