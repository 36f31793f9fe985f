import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Native addons cannot be bundled into Next's ESM chunks.
  serverExternalPackages: ["pkcs11js", "better-sqlite3", "argon2", "@prisma/client", "@prisma/adapter-better-sqlite3", "@prisma/adapter-pg", "pg"],
  poweredByHeader: false,
  typescript: { ignoreBuildErrors: false },
};

export default nextConfig;
