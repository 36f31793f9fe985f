// Whether the production build (.next + dist/server.mjs) matches the sources. A content hash of
// everything that goes into the build is written beside the bundle; `npm start` rebuilds when it
// differs, so a start never serves stale code and a second start reuses the build. Hashing every
// source file takes a few tens of milliseconds.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const SERVER_BUNDLE = path.join(ROOT, "dist/server.mjs");
export const HASH_FILE = path.join(ROOT, "dist/build-hash");
export const NEXT_BUILD_ID = path.join(ROOT, ".next/BUILD_ID");

const SOURCE_DIRS = ["app", "components", "lib", "server", "public"];
const SOURCE_FILES = [
  "server.ts",
  "next.config.ts",
  "postcss.config.mjs",
  "tsconfig.json",
  "package.json",
  "package-lock.json",
  "prisma/sqlite/schema.prisma",
];
// Tests beside the code do not reach the build.
const IGNORED = /\.(test|spec)\.tsx?$/;

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && !IGNORED.test(e.name)) out.push(p);
  }
}

export function sourceHash() {
  const files = SOURCE_FILES.map((f) => path.join(ROOT, f)).filter((f) => existsSync(f));
  for (const d of SOURCE_DIRS) walk(path.join(ROOT, d), files);
  files.sort();
  const h = createHash("sha256");
  for (const f of files) {
    h.update(path.relative(ROOT, f)).update("\0");
    h.update(readFileSync(f)).update("\0");
  }
  return h.digest("hex");
}

/** "current", "missing" (no build at all) or "stale" (built from other sources). */
export function buildState() {
  if (!existsSync(NEXT_BUILD_ID) || !existsSync(SERVER_BUNDLE) || !existsSync(HASH_FILE)) return "missing";
  return readFileSync(HASH_FILE, "utf8").trim() === sourceHash() ? "current" : "stale";
}
