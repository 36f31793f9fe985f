import type { Config } from "../config";

/**
 * `Strict-Transport-Security` for an instance reached over HTTPS: Talon terminates TLS itself
 * (TALON_TLS_CERT_FILE) or its public URL is https (a TLS proxy in front). One year; no
 * includeSubDomains or preload, because other hosts under the operator's domain are not ours to pin.
 * Null over plain HTTP, where browsers ignore it and it would only mislead.
 */
export function strictTransportSecurity(config: Pick<Config, "tls" | "publicUrl">): string | null {
  return config.tls || config.publicUrl.startsWith("https:") ? "max-age=31536000" : null;
}

/**
 * What every API response carries besides its own headers. The API serves JSON, never a page: no
 * referrer leaves it (share links carry ids in their paths).
 */
export function apiSecurityHeaders(config: Pick<Config, "tls" | "publicUrl">): Record<string, string> {
  const hsts = strictTransportSecurity(config);
  return { "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", ...(hsts ? { "Strict-Transport-Security": hsts } : {}) };
}
