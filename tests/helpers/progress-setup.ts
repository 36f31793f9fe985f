import { writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";

// Runs in each test file's worker process before the file itself (vitest.config.ts setupFiles). Under
// `npm test` (scripts/test.mjs sets TALON_TEST_PROGRESS_DIR) it records which file this process runs
// and since when, so the runner's watchdog (scripts/test-watchdog.mjs) can name a file that hangs.
const dir = process.env.TALON_TEST_PROGRESS_DIR;
if (dir) writeFileSync(path.join(dir, String(process.pid)), `${Date.now()}\t${expect.getState().testPath ?? ""}`);
