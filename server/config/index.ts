import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { CHAIN_NAMES } from "../intents/chains";
import { publicHostProblem } from "../net/outbound";

/**
 * Every setting Talon reads from the environment, parsed once. A bad value stops start-up with one
 * line naming the variable (see `formatConfigError`). The README's configuration table lists these.
 */
const intFrom = (def: number, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .prefault(String(def));

/** `name=url,…`: names from the chain registry, http(s) URLs. Messages never echo a URL (it may hold an API key). */
const chainRpcUrls = z
  .string()
  .max(65_536)
  .transform((s, ctx) => {
    const out: Record<string, string> = {};
    for (const pair of s.split(",").map((p) => p.trim()).filter(Boolean)) {
      const eq = pair.indexOf("=");
      const name = pair.slice(0, Math.max(eq, 0)).trim().toLowerCase();
      const url = pair.slice(eq + 1).trim();
      const problem =
        eq < 1 ? "must be comma-separated name=url pairs"
        : !CHAIN_NAMES.includes(name) ? `names an unknown chain (known: ${CHAIN_NAMES.join(", ")})`
        : Object.hasOwn(out, name) ? `names chain ${name} twice`
        : url.length > 2048 || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol) ? `needs an http(s) URL of at most 2048 characters for ${name}`
        : undefined;
      if (problem) {
        ctx.addIssue({ code: "custom", message: problem });
        return z.NEVER;
      }
      out[name] = url;
    }
    return out;
  })
  .prefault("");

const METRICS_ADDR_HELP = "must be host:port (e.g. 127.0.0.1:9464 or [::1]:9464) or off";

/** `host:port` (IPv6 in brackets) or `off`. Port 0 picks a free port (tests). */
const metricsAddr = z
  .string()
  .max(300)
  .transform((s, ctx) => {
    if (s.trim().toLowerCase() === "off") return null;
    const m = /^(?:\[([0-9A-Fa-f:.]{2,45})\]|([A-Za-z0-9.-]{1,253})):(\d{1,5})$/.exec(s.trim());
    const port = m ? Number(m[3]) : NaN;
    if (!m || port > 65535) {
      ctx.addIssue({ code: "custom", message: METRICS_ADDR_HELP });
      return z.NEVER;
    }
    return { host: (m[1] ?? m[2])!, port };
  })
  .prefault("127.0.0.1:9464");

const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const TENDERLY_SLUG = z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, "must be a slug of at most 100 letters, digits, '.', '_' or '-'");

const ZEnv = z.object({
  PORT: intFrom(3000, 1, 65535),
  HOST: z.string().min(1).max(255).default("0.0.0.0"),
  TALON_DATA_DIR: z.string().min(1).max(4096).default("./data"),
  DATABASE_URL: z
    .string()
    .max(4096)
    .regex(/^(file:|postgres(ql)?:\/\/)/, "must start with file: or postgres://")
    .optional(),
  TALON_PUBLIC_URL: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  TALON_KEYSTORE: z.enum(["pkcs11", "local"]).default("pkcs11"),
  TALON_PKCS11_MODULE: z.string().min(1).max(4096).default("/usr/lib/softhsm/libsofthsm2.so"),
  TALON_PKCS11_TOKEN_LABEL: z.string().min(1).max(32).default("talon"),
  TALON_PKCS11_PIN: z.string().min(4).max(255).optional(),
  TALON_PKCS11_PIN_FILE: z.string().min(1).max(4096).optional(),
  TALON_PKCS11_SESSIONS: intFrom(4, 1, 64),
  TALON_VAULT_KEY_CACHE_SECONDS: intFrom(300, 0, 86_400),
  TALON_VAULT_KEY_CACHE_SIZE: intFrom(10_000, 1, 1_000_000),
  TALON_SMTP_URL: z.string().regex(/^smtps?:\/\//, "must start with smtp:// or smtps://").max(2048).optional(),
  TALON_MAIL_FROM: z.string().min(3).max(320).default("Talon <no-reply@localhost>"),
  TALON_USER_TOKEN_TTL_SECONDS: intFrom(900, 60, 86_400),
  TALON_LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  TALON_AUDIT_FLUSH_MS: intFrom(2, 0, 1000),
  TALON_TRUSTED_PROXY_HOPS: intFrom(0, 0, 10),
  TALON_TLS_CERT_FILE: z.string().min(1).max(4096).optional(),
  TALON_TLS_KEY_FILE: z.string().min(1).max(4096).optional(),
  TALON_TLS_CLIENT_CA_FILE: z.string().min(1).max(4096).optional(),
  TALON_MTLS_FINGERPRINT_HEADER: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "must be an HTTP header name").optional(),
  TALON_OIDC_ALLOWED_ISSUERS: z
    .string()
    .max(8192)
    .transform((s) => s.split(",").map((i) => i.trim()).filter(Boolean))
    .pipe(z.array(z.url({ protocol: /^https?$/ }).max(2048)))
    .prefault(""),
  TALON_RATE_LIMIT_IP_PER_MINUTE: intFrom(600, 0, 10_000_000),
  TALON_RATE_LIMIT_PRINCIPAL_PER_MINUTE: intFrom(1200, 0, 10_000_000),
  TALON_RATE_LIMIT_AUTH_PER_MINUTE: intFrom(30, 0, 10_000_000),
  TALON_MCP_RATE_LIMIT_PER_MINUTE: intFrom(60, 0, 10_000_000),
  TALON_IP_RULES_CACHE_SECONDS: intFrom(5, 0, 300),
  TALON_LOGIN_MAX_FAILURES_PER_HOUR: intFrom(100, 1, 1_000_000),
  TALON_LOGIN_MAX_FAILURES_PER_IP_PER_HOUR: intFrom(300, 1, 1_000_000),
  TALON_MFA_MAX_FAILURES_PER_15_MIN: intFrom(10, 1, 1_000_000),
  TALON_RATE_LIMIT_STORE: z.enum(["memory", "postgres", "redis"], { message: "must be memory, postgres or redis" }).default("memory"),
  TALON_REDIS_URL: z.string().max(2048).regex(/^rediss?:\/\/[^\s]+$/, "must start with redis:// or rediss://").optional(),
  TALON_WEBHOOK_ALLOW_PRIVATE: z.enum(["0", "1"], { message: "must be 0 or 1" }).default("0"),
  TALON_WEBHOOK_POLL_MS: intFrom(1000, 50, 60_000),
  TALON_WEBHOOK_RETRY_BASE_MS: intFrom(10_000, 10, 3_600_000),
  TALON_WEBHOOK_MAX_ATTEMPTS: intFrom(12, 1, 50),
  TALON_WEBHOOK_TIMEOUT_MS: intFrom(10_000, 100, 60_000),
  TALON_ROTATION_SCAN_MS: intFrom(300_000, 50, 86_400_000),
  TALON_AUDIT_FILE: z
    .string()
    .max(4096)
    .refine((p) => path.isAbsolute(p), "must be an absolute path")
    .refine((p) => existsSync(path.dirname(p)) && statSync(path.dirname(p)).isDirectory(), "must be in an existing directory")
    .refine((p) => !existsSync(p) || statSync(p).isFile(), "must name a file, not a directory")
    .optional(),
  TALON_AUDIT_FILE_MAX_BYTES: intFrom(100 * 1024 * 1024, 1024, 1_000_000_000_000),
  TALON_AUDIT_FILE_KEEP: intFrom(5, 1, 1000),
  TALON_GOOGLE_CLIENT_ID: z.string().min(1).max(512).optional(),
  TALON_GOOGLE_CLIENT_SECRET: z.string().min(1).max(512).optional(),
  TALON_GOOGLE_ISSUER: z.url({ protocol: /^https?$/ }).max(2048).default("https://accounts.google.com"),
  TALON_GOOGLE_JWKS_URL: z.url({ protocol: /^https?$/ }).max(2048).default("https://www.googleapis.com/oauth2/v3/certs"),
  TALON_BILLING: z.enum(["on", "off"], { message: "must be on or off" }).default("off"),
  TALON_METER_BLOCK: intFrom(25, 1, 10_000),
  TALON_METER_RELEASE_MS: intFrom(2000, 10, 3_600_000),
  STRIPE_SECRET_KEY: z.string().min(1).max(255).optional(),
  STRIPE_WEBHOOK_SECRET: z.string().min(1).max(255).optional(),
  STRIPE_API_BASE: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  TALON_CHAIN_RPC_URLS: chainRpcUrls,
  TALON_METRICS_ADDR: metricsAddr,
  TALON_X402_PAY_TO: z.string().regex(EVM_ADDRESS, "must be a 0x-prefixed 20-byte address").optional(),
  TALON_X402_NETWORK: z.enum(CHAIN_NAMES as [string, ...string[]], { message: `must name a registry chain (${CHAIN_NAMES.join(", ")})` }).optional(),
  TALON_X402_ASSET: z.string().regex(EVM_ADDRESS, "must be the 0x address of an EIP-3009 token").optional(),
  TALON_X402_ASSET_NAME: z.string().min(1).max(100).optional(),
  TALON_X402_ASSET_VERSION: z.string().min(1).max(20).optional(),
  TALON_X402_PRICE: z.string().regex(/^[1-9]\d{0,29}$/, "must be a positive whole number of the asset's atomic units").optional(),
  TALON_X402_SETTLEMENT_KEY: z.string().regex(/^hsm:[0-9a-f]{32}$/, "must be hsm:<key id> (32 hex digits, printed by npm run x402:settlement-key)").optional(),
  TALON_X402_FACILITATOR_URL: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  TALON_TENDERLY_ACCESS_KEY: z.string().regex(/^[\x21-\x7e]{1,512}$/, "must be 1–512 printable characters without spaces").optional(),
  TALON_TENDERLY_ACCOUNT: TENDERLY_SLUG.optional(),
  TALON_TENDERLY_PROJECT: TENDERLY_SLUG.optional(),
  TALON_TENDERLY_API_URL: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  TALON_TENDERLY_ALLOW_PRIVATE: z.enum(["0", "1"], { message: "must be 0 or 1" }).optional(),
});

export type Config = {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string;
  dialect: "sqlite" | "postgres";
  publicUrl: string;
  keystore:
    | { provider: "pkcs11"; module: string; tokenLabel: string; pin?: string; pinFile: string; sessions: number }
    | { provider: "local"; keyFile: string };
  vaultKeyCache: { ttlSeconds: number; maxEntries: number };
  mail: { smtpUrl?: string; from: string; outboxDir: string };
  userTokenTtlSeconds: number;
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
  auditFlushMs: number;
  /** Proxies in front of Talon that append to X-Forwarded-For; 0 = the socket address only. */
  trustedProxyHops: number;
  /** Talon terminates TLS itself when cert and key are set; client certificates are verified against the CA file (mTLS agents). */
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
  /** Header a trusted TLS-terminating proxy sets to the client certificate's SHA-256; honoured only when trustedProxyHops > 0. */
  mtlsFingerprintHeader?: string;
  /** Issuers OIDC client-credentials agents may name; Talon fetches discovery and JWKS only from these. */
  oidcAllowedIssuers: string[];
  /** In-process token buckets (per instance); 0 disables a limit. */
  rateLimits: { ipPerMinute: number; principalPerMinute: number; authPerMinute: number; mcpPerMinute: number };
  /** How long an instance may use an org's IP rules before reloading them; 0 = every request. */
  ipRulesCacheSeconds: number;
  /** Where request-rate buckets live: this process (memory) or shared by every instance (postgres, redis). */
  rateLimitStore: { kind: "memory" } | { kind: "postgres" } | { kind: "redis"; url: string };
  /** Outbound webhooks: private addresses allowed (TALON_WEBHOOK_ALLOW_PRIVATE=1), worker poll, retry backoff base, attempts, request timeout. */
  webhooks: { allowPrivate: boolean; pollMs: number; retryBaseMs: number; maxAttempts: number; timeoutMs: number };
  /** How often each instance looks for secrets whose rotation_policy is due (reminders and scheduled rotations). */
  rotationScanMs: number;
  /** The operator's audit file sink (NDJSON, rotated by size, `keep` old files); absent = off. */
  auditFile?: { path: string; maxBytes: number; keep: number };
  /** Brute-force limits on human sign-in (fixed windows in the RateCounter table). */
  loginLimits: { failuresPerAccountPerHour: number; failuresPerIpPerHour: number; mfaFailuresPer15Min: number };
  /** Google sign-in; disabled without a client id. The dashboard's code flow also needs the client secret. */
  google: { clientId?: string; clientSecret?: string; issuer: string; jwksUrl: string };
  /** `off` (self-hosted default): no plans, quotas, 402s or resource limits, usage still counted; `on`: tiers, metering, credits, Stripe. */
  billing: "on" | "off";
  /** Request metering: quota reserved per instance in blocks; idle reservations go back after releaseMs. */
  meter: { block: number; releaseMs: number };
  /** Stripe checkout and webhooks; off unless both keys are set. apiBase points the client elsewhere (tests). */
  stripe?: { secretKey: string; webhookSecret: string; apiBase?: string };
  /** RPC endpoint per registry chain name (TALON_CHAIN_RPC_URLS); a chain without one is disabled. */
  chainRpcUrls: Readonly<Record<string, string>>;
  /** Where the Prometheus `/metrics` listener binds (its own port, loopback by default); null = off. */
  metricsAddr: { host: string; port: number } | null;
  /** x402 pay-per-request past the quota (TALON_X402_*); settled with an HSM key or by a facilitator. Absent = not offered. */
  x402?: X402Config;
  /** Simulation through Tenderly's API instead of the chain's node (TALON_TENDERLY_*); absent = off. */
  tenderly?: TenderlyConfig;
};

export type TenderlyConfig = {
  accessKey: string;
  account: string;
  project: string;
  /** Without a trailing slash; https://api.tenderly.co unless pointed elsewhere. */
  apiUrl: string;
  /** Loopback and private addresses allowed (tests with a local stand-in); off by default. */
  allowPrivate: boolean;
};

const TENDERLY_REQUIRED = ["TALON_TENDERLY_ACCESS_KEY", "TALON_TENDERLY_ACCOUNT", "TALON_TENDERLY_PROJECT"] as const;

/** The access key, account and project together, or no TALON_TENDERLY_* at all. */
function tenderlyOf(e: z.infer<typeof ZEnv>): TenderlyConfig | undefined {
  if (!Object.entries(e).some(([k, v]) => k.startsWith("TALON_TENDERLY_") && v !== undefined)) return undefined;
  const missing = TENDERLY_REQUIRED.filter((k) => e[k] === undefined);
  if (missing.length) throw new ConfigError(`Invalid configuration: ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} required when any TALON_TENDERLY_* variable is set`);
  const apiUrl = new URL(e.TALON_TENDERLY_API_URL ?? "https://api.tenderly.co");
  const allowPrivate = e.TALON_TENDERLY_ALLOW_PRIVATE === "1";
  if (apiUrl.username || apiUrl.password) throw new ConfigError("Invalid configuration: TALON_TENDERLY_API_URL must not carry credentials (the access key goes in TALON_TENDERLY_ACCESS_KEY)");
  if (!allowPrivate) {
    const problem = publicHostProblem(apiUrl.hostname) ?? (apiUrl.protocol === "https:" ? null : "must use https");
    if (problem) throw new ConfigError(`Invalid configuration: TALON_TENDERLY_API_URL ${problem} (TALON_TENDERLY_ALLOW_PRIVATE=1 allows a local stand-in)`);
  }
  return { accessKey: e.TALON_TENDERLY_ACCESS_KEY!, account: e.TALON_TENDERLY_ACCOUNT!, project: e.TALON_TENDERLY_PROJECT!, apiUrl: apiUrl.toString().replace(/\/+$/, ""), allowPrivate };
}

export type X402Config = {
  payTo: string;
  network: string;
  asset: string;
  /** EIP-712 domain of the asset; read from the token (name(), version()) when not configured. */
  assetName?: string;
  assetVersion?: string;
  price: bigint;
  settlement: { kind: "hsm"; keyRef: string } | { kind: "facilitator"; url: string };
};

/** All of TALON_X402_PAY_TO, _NETWORK, _ASSET, _PRICE and one settlement route, or none of them. */
function x402Of(e: z.infer<typeof ZEnv>): X402Config | undefined {
  const set = Object.entries(e).filter(([k, v]) => k.startsWith("TALON_X402_") && v !== undefined);
  if (set.length === 0) return undefined;
  const missing = (["TALON_X402_PAY_TO", "TALON_X402_NETWORK", "TALON_X402_ASSET", "TALON_X402_PRICE"] as const).find((k) => e[k] === undefined);
  if (missing) throw new ConfigError(`Invalid configuration: ${missing} is required when any TALON_X402_* variable is set`);
  if (Boolean(e.TALON_X402_SETTLEMENT_KEY) === Boolean(e.TALON_X402_FACILITATOR_URL)) {
    throw new ConfigError("Invalid configuration: TALON_X402_SETTLEMENT_KEY must be set, or TALON_X402_FACILITATOR_URL instead (exactly one)");
  }
  if (!Object.hasOwn(e.TALON_CHAIN_RPC_URLS, e.TALON_X402_NETWORK!)) {
    throw new ConfigError(`Invalid configuration: TALON_X402_NETWORK ${e.TALON_X402_NETWORK} has no RPC URL: add ${e.TALON_X402_NETWORK}=<url> to TALON_CHAIN_RPC_URLS`);
  }
  if (e.TALON_X402_SETTLEMENT_KEY && e.TALON_KEYSTORE !== "pkcs11") {
    throw new ConfigError("Invalid configuration: TALON_X402_SETTLEMENT_KEY needs the pkcs11 keystore (TALON_KEYSTORE=pkcs11)");
  }
  return {
    payTo: e.TALON_X402_PAY_TO!,
    network: e.TALON_X402_NETWORK!,
    asset: e.TALON_X402_ASSET!,
    assetName: e.TALON_X402_ASSET_NAME,
    assetVersion: e.TALON_X402_ASSET_VERSION,
    price: BigInt(e.TALON_X402_PRICE!),
    settlement: e.TALON_X402_SETTLEMENT_KEY
      ? { kind: "hsm", keyRef: e.TALON_X402_SETTLEMENT_KEY.slice(4) }
      : { kind: "facilitator", url: e.TALON_X402_FACILITATOR_URL!.replace(/\/+$/, "") },
  };
}

export class ConfigError extends Error {}

/** postgres needs a PostgreSQL DATABASE_URL; redis needs TALON_REDIS_URL. */
function rateLimitStoreOf(e: z.infer<typeof ZEnv>, databaseUrl: string): Config["rateLimitStore"] {
  if (e.TALON_RATE_LIMIT_STORE === "postgres" && databaseUrl.startsWith("file:")) {
    throw new ConfigError("Invalid configuration: TALON_RATE_LIMIT_STORE=postgres needs a PostgreSQL DATABASE_URL");
  }
  if (e.TALON_RATE_LIMIT_STORE === "redis") {
    if (!e.TALON_REDIS_URL) throw new ConfigError("Invalid configuration: TALON_RATE_LIMIT_STORE=redis needs TALON_REDIS_URL (e.g. redis://127.0.0.1:6379)");
    return { kind: "redis", url: e.TALON_REDIS_URL };
  }
  return { kind: e.TALON_RATE_LIMIT_STORE };
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = ZEnv.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== "")));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`Invalid configuration: ${String(issue.path[0])} ${issue.message}`);
  }
  const e = parsed.data;
  if (Boolean(e.TALON_TLS_CERT_FILE) !== Boolean(e.TALON_TLS_KEY_FILE)) {
    throw new ConfigError(`Invalid configuration: ${e.TALON_TLS_CERT_FILE ? "TALON_TLS_KEY_FILE" : "TALON_TLS_CERT_FILE"} must be set together with ${e.TALON_TLS_CERT_FILE ? "TALON_TLS_CERT_FILE" : "TALON_TLS_KEY_FILE"}`);
  }
  if (e.TALON_TLS_CLIENT_CA_FILE && !e.TALON_TLS_CERT_FILE) {
    throw new ConfigError("Invalid configuration: TALON_TLS_CLIENT_CA_FILE needs TALON_TLS_CERT_FILE and TALON_TLS_KEY_FILE (Talon must terminate TLS to see client certificates)");
  }
  if (e.TALON_METRICS_ADDR && e.TALON_METRICS_ADDR.port === e.PORT) {
    throw new ConfigError(`Invalid configuration: TALON_METRICS_ADDR must not use the API's port ${e.PORT} (metrics have their own listener)`);
  }
  const x402 = x402Of(e);
  const tenderly = tenderlyOf(e);
  const dataDir = path.resolve(e.TALON_DATA_DIR);
  const databaseUrl = e.DATABASE_URL ?? `file:${path.join(dataDir, "talon.db")}`;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    databaseUrl,
    dialect: databaseUrl.startsWith("file:") ? "sqlite" : "postgres",
    publicUrl: (e.TALON_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ""),
    keystore:
      e.TALON_KEYSTORE === "pkcs11"
        ? {
            provider: "pkcs11",
            module: e.TALON_PKCS11_MODULE,
            tokenLabel: e.TALON_PKCS11_TOKEN_LABEL,
            pin: e.TALON_PKCS11_PIN,
            pinFile: e.TALON_PKCS11_PIN_FILE ?? path.join(dataDir, "hsm", "pin"),
            sessions: e.TALON_PKCS11_SESSIONS,
          }
        : { provider: "local", keyFile: path.join(dataDir, "local-keystore.key") },
    vaultKeyCache: { ttlSeconds: e.TALON_VAULT_KEY_CACHE_SECONDS, maxEntries: e.TALON_VAULT_KEY_CACHE_SIZE },
    mail: { smtpUrl: e.TALON_SMTP_URL, from: e.TALON_MAIL_FROM, outboxDir: path.join(dataDir, "outbox") },
    userTokenTtlSeconds: e.TALON_USER_TOKEN_TTL_SECONDS,
    logLevel: e.TALON_LOG_LEVEL,
    auditFlushMs: e.TALON_AUDIT_FLUSH_MS,
    trustedProxyHops: e.TALON_TRUSTED_PROXY_HOPS,
    tls:
      e.TALON_TLS_CERT_FILE && e.TALON_TLS_KEY_FILE
        ? { certFile: e.TALON_TLS_CERT_FILE, keyFile: e.TALON_TLS_KEY_FILE, clientCaFile: e.TALON_TLS_CLIENT_CA_FILE }
        : undefined,
    mtlsFingerprintHeader: e.TALON_MTLS_FINGERPRINT_HEADER?.toLowerCase(),
    oidcAllowedIssuers: e.TALON_OIDC_ALLOWED_ISSUERS,
    rateLimits: {
      ipPerMinute: e.TALON_RATE_LIMIT_IP_PER_MINUTE,
      principalPerMinute: e.TALON_RATE_LIMIT_PRINCIPAL_PER_MINUTE,
      authPerMinute: e.TALON_RATE_LIMIT_AUTH_PER_MINUTE,
      mcpPerMinute: e.TALON_MCP_RATE_LIMIT_PER_MINUTE,
    },
    ipRulesCacheSeconds: e.TALON_IP_RULES_CACHE_SECONDS,
    rateLimitStore: rateLimitStoreOf(e, databaseUrl),
    webhooks: {
      allowPrivate: e.TALON_WEBHOOK_ALLOW_PRIVATE === "1",
      pollMs: e.TALON_WEBHOOK_POLL_MS,
      retryBaseMs: e.TALON_WEBHOOK_RETRY_BASE_MS,
      maxAttempts: e.TALON_WEBHOOK_MAX_ATTEMPTS,
      timeoutMs: e.TALON_WEBHOOK_TIMEOUT_MS,
    },
    rotationScanMs: e.TALON_ROTATION_SCAN_MS,
    auditFile: e.TALON_AUDIT_FILE ? { path: e.TALON_AUDIT_FILE, maxBytes: e.TALON_AUDIT_FILE_MAX_BYTES, keep: e.TALON_AUDIT_FILE_KEEP } : undefined,
    loginLimits: {
      failuresPerAccountPerHour: e.TALON_LOGIN_MAX_FAILURES_PER_HOUR,
      failuresPerIpPerHour: e.TALON_LOGIN_MAX_FAILURES_PER_IP_PER_HOUR,
      mfaFailuresPer15Min: e.TALON_MFA_MAX_FAILURES_PER_15_MIN,
    },
    google: { clientId: e.TALON_GOOGLE_CLIENT_ID, clientSecret: e.TALON_GOOGLE_CLIENT_SECRET, issuer: e.TALON_GOOGLE_ISSUER, jwksUrl: e.TALON_GOOGLE_JWKS_URL },
    billing: e.TALON_BILLING,
    meter: { block: e.TALON_METER_BLOCK, releaseMs: e.TALON_METER_RELEASE_MS },
    stripe:
      e.STRIPE_SECRET_KEY && e.STRIPE_WEBHOOK_SECRET
        ? { secretKey: e.STRIPE_SECRET_KEY, webhookSecret: e.STRIPE_WEBHOOK_SECRET, apiBase: e.STRIPE_API_BASE }
        : undefined,
    chainRpcUrls: e.TALON_CHAIN_RPC_URLS,
    metricsAddr: e.TALON_METRICS_ADDR,
    x402,
    tenderly,
  };
}
