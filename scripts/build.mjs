#!/usr/bin/env node
// `npm run build`: the Next.js build (dashboard and pages), then server.ts bundled into
// dist/server.mjs. node_modules stay external, so native addons load as usual.
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { HASH_FILE, ROOT, SERVER_BUNDLE, sourceHash } from "./build-state.mjs";

const started = Date.now();
// Hash before building: an edit made while the build runs must make the next start rebuild.
const hash = sourceHash();
rmSync(HASH_FILE, { force: true });

const next = spawnSync(process.execPath, [path.join(ROOT, "node_modules/next/dist/bin/next"), "build"], {
  cwd: ROOT,
  stdio: "inherit",
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
});
if (next.status !== 0) {
  console.error(`next build failed (exit ${next.status ?? next.signal})`);
  process.exit(1);
}

const esbuild = await import("esbuild");
// `server-only` throws outside React's server graph; in the plain Node server every module is server-side.
const serverOnly = {
  name: "server-only",
  setup(b) {
    b.onResolve({ filter: /^server-only$/ }, () => ({ path: "server-only", namespace: "empty" }));
    b.onLoad({ filter: /.*/, namespace: "empty" }, () => ({ contents: "", loader: "js" }));
  },
};
mkdirSync(path.dirname(SERVER_BUNDLE), { recursive: true });
await esbuild.build({
  entryPoints: [path.join(ROOT, "server.ts")],
  outfile: SERVER_BUNDLE,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  plugins: [serverOnly],
  sourcemap: "linked",
  logLevel: "warning",
});

// The talon CLI bundle (also built at postinstall), so a build after editing cli/ or lib/ refreshes it.
const cli = spawnSync(process.execPath, [path.join(ROOT, "cli/build.mjs")], { cwd: ROOT, stdio: "inherit" });
if (cli.status !== 0) {
  console.error("CLI bundle failed");
  process.exit(1);
}

writeFileSync(HASH_FILE, hash + "\n");
console.error(`Build complete in ${((Date.now() - started) / 1000).toFixed(1)} s`);
