#!/usr/bin/env node
// `npm test`: system packages, schema/migration checks, the production build (once, for the start-up
// tests), then vitest on SQLite and — when TEST_DATABASE_URL is set — again on PostgreSQL. Ends with
// one line "N passed, N failed" over everything (each check counts as one test). Extra arguments go
// to vitest (`npm test -- tests/api`).
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildState, ROOT } from "./build-state.mjs";
import { ensureSystemPackages, SystemDepsError } from "./system-deps.mjs";
import { watchTestFiles } from "./test-watchdog.mjs";

const vitestArgs = process.argv.slice(2);
const totals = { passed: 0, failed: 0 };
const failures = [];
const timings = [];
const pgUrl = process.env.TEST_DATABASE_URL;

function record(name, ok) {
  if (ok) totals.passed++;
  else {
    totals.failed++;
    failures.push(name);
  }
}

function timed(name, fn) {
  const t = Date.now();
  const r = fn();
  timings.push(`${name} ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return r;
}

function run(cmd, args, env = {}, stdio = "inherit") {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio, env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...env } });
  return r.status === 0;
}

function check(name, args, env) {
  console.error(`\n▸ ${name}`);
  record(name, timed(name, () => run(process.execPath, args, env)));
}

// 1. System packages: softhsm2 for every test; chromium for the browser tests.
try {
  ensureSystemPackages(["softhsm2"]);
} catch (e) {
  if (!(e instanceof SystemDepsError)) throw e;
  console.error(e.message);
  process.exit(1);
}
try {
  ensureSystemPackages(["chromium"]);
} catch (e) {
  if (!(e instanceof SystemDepsError)) throw e;
  console.error(`warning: ${e.message}`);
}

// 2. The lock file matches package.json (npm ci refuses a drifted one), and schema and migrations
// agree, without needing a database for SQLite.
check("npm: package-lock.json matches package.json", ["scripts/lock-check.mjs"]);
// The layering of ARCHITECTURE.md: no import cycles, lib/ and cli/ never import server/, components
// never import app/ or server/ (.dependency-cruiser.cjs; also part of npm run lint).
check("layers: dependency-cruiser", [
  path.join(ROOT, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs"),
  ...["app", "components", "lib", "server", "cli", "server.ts"],
  "--config", ".dependency-cruiser.cjs", "--output-type", "err",
]);
check("prisma: postgres schema generated from sqlite", ["scripts/db/generate.mjs", "--check"]);
check("prisma: sqlite migrations match schema", ["scripts/db/migrate.mjs", "diff", "--summary"], { DATABASE_URL: "file::memory:" });
if (pgUrl) {
  // The PostgreSQL diff replays the migrations into a temporary shadow database, so it needs a server.
  check("prisma: postgres migrations match schema", ["scripts/db/migrate.mjs", "diff", "--summary"], {
    DATABASE_URL: pgUrl,
    SCHEMA: "prisma/postgres/schema.prisma",
  });
}

// 3. The production build, once, for tests/startup (they fail clearly if it is missing).
const buildEnv = {};
if (buildState() !== "current") {
  console.error("\n▸ build (next build + server bundle)");
  const ok = timed("build", () => run(process.execPath, ["scripts/build.mjs"]));
  record("build", ok);
  if (!ok) buildEnv.TALON_TEST_BUILD_FAILED = "1";
}

// 4. vitest, once per database. No test file runs anywhere near this long (the slowest take about two
// minutes): one that does is stuck where vitest's own timeouts cannot reach (scripts/test-watchdog.mjs).
const HUNG_FILE_MS = Number(process.env.TALON_TEST_HUNG_FILE_MINUTES ?? 15) * 60_000;

async function vitest(label, env) {
  const dir = mkdtempSync(path.join(tmpdir(), "talon-vitest-"));
  const out = path.join(dir, "report.json");
  const progress = path.join(dir, "progress");
  mkdirSync(progress);
  console.error(`\n▸ vitest (${label})`);
  const stopWatching = watchTestFiles(progress, { limitMs: HUNG_FILE_MS, root: ROOT });
  const t = Date.now();
  const failedBefore = totals.failed;
  const exit = await new Promise((resolve) => {
    const args = [path.join(ROOT, "node_modules/vitest/vitest.mjs"), "run", "--reporter=default", "--reporter=json", `--outputFile.json=${out}`, ...vitestArgs];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: "inherit",
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", TALON_TEST_PROGRESS_DIR: progress, ...env },
    });
    child.on("exit", (code, signal) => resolve(code ?? signal));
    child.on("error", (e) => resolve(e.message));
  });
  const hung = stopWatching();
  for (const file of hung) record(`${label}: ${file}: hung, killed by the watchdog (its report is above)`, false);
  timings.push(`vitest ${label} ${((Date.now() - t) / 1000).toFixed(1)} s`);
  try {
    const report = JSON.parse(readFileSync(out, "utf8"));
    totals.passed += report.numPassedTests;
    totals.failed += report.numFailedTests;
    for (const file of report.testResults ?? []) {
      for (const t of file.assertionResults ?? []) if (t.status === "failed") failures.push(`${label}: ${path.relative(ROOT, file.name)} › ${t.fullName}`);
      // A file that fails to load (syntax error, failing beforeAll) has no failed assertions of its own.
      if (file.status === "failed" && !(file.assertionResults ?? []).some((t) => t.status === "failed")) {
        totals.failed++;
        failures.push(`${label}: ${path.relative(ROOT, file.name)} (${(file.message ?? "failed to run").split("\n")[0]})`);
      }
    }
    // Errors outside any test (an unhandled rejection, a worker that died) fail vitest without a failed test.
    if (exit !== 0 && totals.failed === failedBefore) record(`vitest ${label} (exited ${exit}: errors outside the tests, see above)`, false);
  } catch {
    record(`vitest ${label} (no report: vitest crashed)`, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await vitest("sqlite", { ...buildEnv, TALON_TEST_DB: "sqlite" });
if (pgUrl) await vitest("postgres", { ...buildEnv, TALON_TEST_DB: "postgres", TEST_DATABASE_URL: pgUrl });
else console.error("\nTEST_DATABASE_URL is not set: skipped the PostgreSQL run");

console.error(`\nTimings: ${timings.join(", ")}`);
if (failures.length) console.error(`Failed:\n  ${failures.join("\n  ")}`);
console.log(`${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed > 0 ? 1 : 0);
