import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // The same `@/` alias as tsconfig.json, for components and pages under test.
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["tests/**/*.test.ts", "server/**/*.test.ts", "lib/**/*.test.ts", "cli/**/*.test.ts", "components/**/*.test.ts", "e2e/**/*.spec.ts"],
    // Each test file in its own process: PKCS#11 library state and SOFTHSM2_CONF are process-wide.
    pool: "forks",
    isolate: true,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
