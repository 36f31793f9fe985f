import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Native addons cannot be bundled into Next's ESM chunks.
  serverExternalPackages: ["pkcs11js", "better-sqlite3", "argon2", "@prisma/client", "@prisma/adapter-better-sqlite3", "@prisma/adapter-pg", "pg"],
  poweredByHeader: false,
  typescript: { ignoreBuildErrors: false },
  // Quota and limit errors point people at /settings/billing (the card's wording); the page is /billing.
  async redirects() {
    return [{ source: "/settings/billing", destination: "/billing", permanent: false }];
  },
};

export default nextConfig;
