#!/usr/bin/env node
// Bundles the CLI (cli/src + lib/sdk, no dependencies) into cli/dist/talon.mjs, so `talon` starts
// in plain node without compiling TypeScript. Runs at postinstall; without esbuild (a devDependency,
// absent in `npm install --omit=dev`) it does nothing and cli/bin/talon.mjs falls back to tsx.
import { readFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  console.log("cli/build.mjs: esbuild not installed; `talon` will run from source through tsx");
  process.exit(0);
}
const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
await esbuild.build({
  entryPoints: [path.join(root, "cli/src/main.ts")],
  outfile: path.join(root, "cli/dist/talon.mjs"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  define: { TALON_CLI_VERSION: JSON.stringify(version) },
  logLevel: "warning",
});
