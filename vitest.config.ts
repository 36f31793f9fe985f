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
    // Each file's worker records which file it runs, for npm test's watchdog (scripts/test-watchdog.mjs).
    setupFiles: ["tests/helpers/progress-setup.ts"],
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Browser specs poll the page; on a loaded 2-core machine a re-render can take seconds.
    expect: { poll: { timeout: 15_000, interval: 100 } },
  },
});
