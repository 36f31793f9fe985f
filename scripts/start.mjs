#!/usr/bin/env node
// `npm start`: make sure SoftHSM2 is installed (when it is the keystore), build when there is no
// build for the current sources, then run the production server (dist/server.mjs) with this
// process's stdio, passing signals on. A second start reuses the build, the database and the token.
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { buildState, ROOT, SERVER_BUNDLE } from "./build-state.mjs";
import { ensureSystemPackages, needsSoftHsm, SystemDepsError } from "./system-deps.mjs";

try {
  if (needsSoftHsm()) ensureSystemPackages(["softhsm2"], { hint: ", or set TALON_KEYSTORE=local to run without an HSM" });
} catch (e) {
  if (!(e instanceof SystemDepsError)) throw e;
  console.error(e.message);
  process.exit(1);
}

const state = buildState();
if (state !== "current") {
  console.error(state === "missing" ? "No production build yet: building (a few minutes on first start)…" : "Sources changed since the last build: rebuilding…");
  const build = spawnSync(process.execPath, [path.join(ROOT, "scripts/build.mjs")], { cwd: ROOT, stdio: "inherit" });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

// V8 lets the old generation grow to several times what is live before its next full collection
// (up to 4x, bounded only by the heap limit, 4 GB on an 8 GB+ machine) and returns memory only after a
// quiet spell. Under load that growth is garbage, not data: after the bench a full GC left ~30 MB over
// idle while the heap had grown by ~350 MB. Growing by at most 25 % between full collections keeps the
// resident set near what is live (docs/perf/README.md, Memory). A V8 flag rather than a Node one, so
// it is probed first: a Node whose V8 lacks it starts without it instead of refusing to start.
const V8_FLAGS = ["--heap-growing-percent=25"].filter((flag) => spawnSync(process.execPath, [flag, "-e", ""]).status === 0);

const child = spawn(process.execPath, ["--enable-source-maps", ...V8_FLAGS, SERVER_BUNDLE], {
  cwd: ROOT,
  stdio: "inherit",
  env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
});
// Whoever started us (npm) may die without passing a signal on: stop the server then, rather than
// leave it running with nobody to stop it, holding the port.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent && child.exitCode === null) child.kill("SIGTERM");
}, 1000).unref();
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    if (child.exitCode === null) child.kill(sig);
  });
}
child.on("exit", (code, signal) => {
  process.exit(code ?? (signal ? 128 + (signal === "SIGINT" ? 2 : signal === "SIGHUP" ? 1 : 15) : 1));
});
