#!/usr/bin/env node
// `talon`. Fast path: the bundle cli/build.mjs writes at install time (cli/dist/talon.mjs). When it
// is missing or older than the sources (a checkout being edited), the TypeScript source runs
// through tsx, a runtime dependency.
import { readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const bundle = here("../dist/talon.mjs");

function newestSource(dirs) {
  let newest = 0;
  for (const dir of dirs) {
    let entries;
    try {
      entries = readdirSync(dir, { recursive: true, withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) if (e.isFile() && e.name.endsWith(".ts")) newest = Math.max(newest, statSync(`${e.parentPath ?? e.path}/${e.name}`).mtimeMs);
  }
  return newest;
}

function bundleIsFresh() {
  try {
    return statSync(bundle).mtimeMs >= newestSource([here("../src"), here("../../lib/sdk"), here("../../lib/mcp"), here("../../lib/contract")]);
  } catch {
    return false;
  }
}

let main;
if (process.env.TALON_CLI_FROM_SOURCE !== "1" && bundleIsFresh()) {
  ({ main } = await import(bundle));
} else {
  const { tsImport } = await import("tsx/esm/api");
  ({ main } = await tsImport("../src/main.ts", import.meta.url));
}
process.exitCode = await main(process.argv.slice(2));
