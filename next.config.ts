import type { NextConfig } from "next";

/**
 * The policy every dashboard response carries. Next.js renders inline bootstrap scripts and Radix sets
 * inline styles, so scripts and styles allow 'unsafe-inline' (a nonce would need every page rendered
 * per request); what the policy still forbids is what matters most here: being framed (clickjacking a
 * "reveal" or "approve"), plugins, a `<base>` that re-points relative URLs, and scripts, styles,
 * fonts or connections to any other origin, and forms posting anywhere else (the dashboard's forms
 * submit through scripts; Stripe and Google are reached by navigation, not by a form post).
 * Development adds 'unsafe-eval' for React's error overlay.
 */
function contentSecurityPolicy(dev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'unsafe-inline'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** HSTS is not here: it depends on how the running instance is reached (server.ts sets it). */
const DASHBOARD_SECURITY_HEADERS = [
  { key: "Content-Security-Policy", value: contentSecurityPolicy(process.env.NODE_ENV === "development") },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  // Not no-referrer: that also blanks the Origin of same-origin POSTs, which server actions check.
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
];

const nextConfig: NextConfig = {
  // Native addons cannot be bundled into Next's ESM chunks.
  serverExternalPackages: ["pkcs11js", "better-sqlite3", "argon2", "@prisma/client", "@prisma/adapter-better-sqlite3", "@prisma/adapter-pg", "pg"],
  poweredByHeader: false,
  // No source maps for the server chunks: the production server runs with --enable-source-maps (for
  // its own bundle's stack traces), and Node then parses and keeps the map of every Next.js chunk it
  // loads — ≈ 90 MB of heap at idle (docs/perf/README.md, Memory). Browser maps are unaffected.
  experimental: { serverSourceMaps: false },
  typescript: { ignoreBuildErrors: false },
  async headers() {
    return [{ source: "/:path*", headers: DASHBOARD_SECURITY_HEADERS }];
  },
  // Quota and limit errors point people at /settings/billing (the card's wording); the page is /billing.
  async redirects() {
    return [{ source: "/settings/billing", destination: "/billing", permanent: false }];
  },
};

export default nextConfig;
