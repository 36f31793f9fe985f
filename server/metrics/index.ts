import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { RequestHistogram } from "./request-histogram";

/**
 * Talon's Prometheus metrics, one registry per runtime (tests run many runtimes in one process;
 * prom-client's global registry is never used). Other code records through the small methods below
 * and never sees prom-client. Every label value is drawn from a closed set chosen here or from the
 * router's route templates: no label ever carries a path, an id, an address or a value a client sent.
 */

const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const HSM_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const FLUSH_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

/** The route label of a request no route matched (404, 405): its raw path is never a label. */
export const UNMATCHED_ROUTE = "unmatched";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * Why a credential was refused. Bearer kinds come from the request pipeline (the credential's shape,
 * never its content); sign-in kinds from the failed-sign-in record (its method).
 */
const AUTH_FAILURE_KINDS = [
  "missing_credentials",
  "token",
  "personal_key",
  "agent_key",
  "dpop",
  "password",
  "mfa",
  "passkey",
  "google",
  "agent_api_key",
  "agent_mtls",
  "agent_oidc",
  "other",
] as const;
export type AuthFailureKind = (typeof AUTH_FAILURE_KINDS)[number];

const SIGN_IN_KINDS: Readonly<Record<string, AuthFailureKind>> = {
  password: "password",
  mfa: "mfa",
  passkey: "passkey",
  google: "google",
  api_key: "agent_api_key",
  mtls: "agent_mtls",
  oidc_client_credentials: "agent_oidc",
};

export type RateLimitName = "ip" | "auth" | "principal";
export type SecretReadSource = "direct" | "share";
export type SecretWriteAction = "write" | "rotate";
export type KeystoreOperation =
  | "wrap"
  | "unwrap"
  | "sign"
  | "signing_jwk"
  | "self_test"
  | "master_key_versions"
  | "ensure_master_key"
  | "destroy_master_key"
  | "secp256k1_generate"
  | "secp256k1_public_key"
  | "secp256k1_sign"
  | "secp256k1_destroy";

export type DbPoolStats = { total: number; idle: number; waiting: number };

export class Metrics {
  readonly registry = new Registry();
  private processMetrics = false;

  private readonly httpDuration = new RequestHistogram(
    "talon_http_request_duration_seconds",
    "API requests by method, route template (the router's, never the raw path) and status code; _count is the request rate",
    HTTP_BUCKETS,
    this.registry,
  );

  private readonly secretReads = new Counter({
    name: "talon_secret_reads_total",
    help: "Secret values served: direct reads (API, MCP, dashboard) and share-link reads",
    labelNames: ["source"] as const,
    registers: [this.registry],
  });
  private readonly secretWrites = new Counter({
    name: "talon_secret_writes_total",
    help: "Secret versions stored (write includes restore-as-new-version)",
    labelNames: ["action"] as const,
    registers: [this.registry],
  });
  private readonly directReads = this.secretReads.labels("direct");
  private readonly shareReads = this.secretReads.labels("share");
  private readonly writes = this.secretWrites.labels("write");
  private readonly rotations = this.secretWrites.labels("rotate");
  private readonly authFailures = new Counter({
    name: "talon_auth_failures_total",
    help: "Refused credentials by kind: bearer credentials on API requests, and failed sign-ins and agent-token exchanges",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  private readonly rateLimitRefusals = new Counter({
    name: "talon_rate_limit_refusals_total",
    help: "Requests refused by the in-process rate limits (429), by limit",
    labelNames: ["limit"] as const,
    registers: [this.registry],
  });
  private readonly keystoreDuration = new Histogram({
    name: "talon_keystore_operation_duration_seconds",
    help: "Keystore (HSM) operations by provider, operation and outcome; _count is the operation count",
    labelNames: ["provider", "operation", "outcome"] as const,
    buckets: HSM_BUCKETS,
    registers: [this.registry],
  });
  private readonly vaultKeyLookups = new Counter({
    name: "talon_vault_key_cache_lookups_total",
    help: "Vault data key lookups by result; hit ratio = rate(hit) / rate(hit + miss). A miss costs an HSM unwrap",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  private readonly vaultKeyHit = this.vaultKeyLookups.labels("hit");
  private readonly vaultKeyMiss = this.vaultKeyLookups.labels("miss");
  private vaultKeyHits = 0;
  private vaultKeyMisses = 0;
  private readonly auditFlushDuration = new Histogram({
    name: "talon_audit_flush_duration_seconds",
    help: "Audit group-commit flushes (one transaction per batch) by outcome",
    labelNames: ["outcome"] as const,
    buckets: FLUSH_BUCKETS,
    registers: [this.registry],
  });
  private readonly auditFlushedEvents = new Counter({
    name: "talon_audit_flushed_events_total",
    help: "Audit events written by group-commit flushes, by outcome",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });

  constructor() {
    // Series with a fixed label set exist from the start, so a dashboard shows 0 rather than no data.
    for (const c of [this.directReads, this.shareReads, this.writes, this.rotations, this.vaultKeyHit, this.vaultKeyMiss]) c.inc(0);
    for (const limit of ["ip", "auth", "principal"] as const) this.rateLimitRefusals.labels(limit).inc(0);
    for (const kind of AUTH_FAILURE_KINDS) this.authFailures.labels(kind).inc(0);
  }

  /** Records one API request. `route` is the router's template or UNMATCHED_ROUTE. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe(METHODS.has(method) ? method : "OTHER", route, status, seconds);
  }

  secretRead(source: SecretReadSource): void {
    (source === "direct" ? this.directReads : this.shareReads).inc();
  }

  secretWritten(action: SecretWriteAction): void {
    (action === "write" ? this.writes : this.rotations).inc();
  }

  authFailure(kind: AuthFailureKind): void {
    this.authFailures.labels(kind).inc();
  }

  /** A failed sign-in or agent-token exchange, by its method; an unknown method counts as "other". */
  signInFailure(method: string | undefined): void {
    this.authFailure((method !== undefined && Object.hasOwn(SIGN_IN_KINDS, method) ? SIGN_IN_KINDS[method] : undefined) ?? "other");
  }

  rateLimited(limit: RateLimitName): void {
    this.rateLimitRefusals.labels(limit).inc();
  }

  keystoreOperation(provider: string, operation: KeystoreOperation, ok: boolean, seconds: number): void {
    this.keystoreDuration.labels(provider, operation, ok ? "ok" : "error").observe(seconds);
  }

  vaultKeyLookup(hit: boolean): void {
    if (hit) {
      this.vaultKeyHits += 1;
      this.vaultKeyHit.inc();
    } else {
      this.vaultKeyMisses += 1;
      this.vaultKeyMiss.inc();
    }
  }

  auditFlushed(events: number, ok: boolean, seconds: number): void {
    const outcome = ok ? "ok" : "error";
    this.auditFlushDuration.labels(outcome).observe(seconds);
    this.auditFlushedEvents.labels(outcome).inc(events);
  }

  /** Gauges read when scraped, so keeping them current costs the hot path nothing. */
  watchAuditQueue(depth: () => number): void {
    this.gauge("talon_audit_queue_depth", "Audit events waiting for the next group-commit flush", depth);
  }

  watchVaultKeyCache(entries: () => number): void {
    this.gauge("talon_vault_key_cache_entries", "Unwrapped vault data keys held in this process", entries);
    const ratio = () => {
      const total = this.vaultKeyHits + this.vaultKeyMisses;
      return total === 0 ? 0 : this.vaultKeyHits / total;
    };
    this.gauge("talon_vault_key_cache_hit_ratio", "Vault key cache hits / lookups since start (use the lookups counter for a windowed ratio)", ratio);
  }

  /** PostgreSQL's connection pool (node-postgres). SQLite has no pool: these are absent there. */
  watchDbPool(stats: () => DbPoolStats): void {
    this.gauge("talon_db_pool_connections", "Connections in the database pool (open, idle and busy)", () => stats().total);
    this.gauge("talon_db_pool_idle_connections", "Idle connections in the database pool", () => stats().idle);
    this.gauge("talon_db_pool_waiting_requests", "Queries waiting for a pool connection", () => stats().waiting);
  }

  /**
   * Node.js process metrics (prom-client's defaults: event-loop lag, heap, GC, CPU, handles). Only a
   * process that serves metrics pays for their monitors; calling it again does nothing.
   */
  enableProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private gauge(name: string, help: string, read: () => number) {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }
}

export function createMetrics(): Metrics {
  return new Metrics();
}
